"""`flowq cache stats|list|clear`: the shared evaluation cache."""

from __future__ import annotations

from flowq.cli.common import _fmt
from hwmodels.errors import FlowQError


def cmd_cache(args) -> int:
    from flowq.cache import ResultCache

    cache = ResultCache.default()
    if args.model is not None and args.action in ("stats", "list") and args.model not in cache.stats()["models"]:
        known = ", ".join(sorted(m for m in cache.stats()["models"] if m)) or "none"
        raise FlowQError(f"--model {args.model!r}: the cache {cache.path} holds no results of it (models: {known})")
    if args.action == "stats":
        stats = cache.stats()
        if args.model is not None:
            stats["models"] = {m: v for m, v in stats["models"].items() if m == args.model}
            stats["rows"] = sum(sum(kinds.values()) for kinds in stats["models"].values())
        print(f"{stats['path']}: {stats['rows']} results, {stats['bytes'] / 1e6:.2f} MB")
        for model, kinds in stats["models"].items():
            print(f"  {model or '-'}: " + ", ".join(f"{kind or '-'} {n}" for kind, n in kinds.items()))
    elif args.action == "list":
        for row in cache.entries(model=args.model, limit=args.limit):
            value, parts = row["value"], row["parts"]
            print(f"{row['key']}  {row['model'] or '-'}  {row['kind'] or '-'}  psi={_fmt(value.get('psi'))}  "
                  f"bits_w={parts.get('bits_w', '-')}  bits_a={parts.get('bits_a', '-')}")
    else:
        removed = cache.clear(model=args.model)
        print(f"removed {removed} results from {cache.path}" + (f" (model {args.model})" if args.model else ""))
    return 0
