"""`flowq` command line: search, refine, plot, hw and demo.

    flowq search --model resnet20 --dataset digits --level fine --hw spatial-256 --dataflow RS --algo nsga2 \
                 --pop 25 --gen 50 --out runs/x [--seed S] [--evaluator finetune|proxy] [--epochs E]
    flowq refine runs/x --level mid [--constraint frac_ops=0.35] [--gen 10] [--out runs/x/mid]
    flowq train runs/x [--pick hv|accuracy|compression|INDEX] [--epochs E] [--finetune]
    flowq plot runs/x
    flowq report runs/x [--out FILE]
    flowq hw resnet20 --hw spatial-256 [--dataflow RS|WS|OS] [--bits 8 | --genome FILE] [--level fine] [--json]
             [--layer NAME] [--mapping FILE]
    flowq demo --out runs/demo
    flowq compare runs/a runs/b ... [--leader accuracy|hv|compression] [--out similarity.png]

Errors on bad input (FlowQError) print their message and exit with status 2, without a traceback.

One module per command (flowq.cli.search: search and refine, .train, .plot, .report, .hw, .compare,
.demo, .cache), the parser in flowq.cli.args, the entry point in flowq.cli.entry.
"""

from flowq.cli.args import build_parser
from flowq.cli.entry import COMMANDS, main
from flowq.cli.search import _announce_cost, _report, build_flow

__all__ = ["main", "build_parser", "build_flow", "COMMANDS", "_announce_cost", "_report"]
