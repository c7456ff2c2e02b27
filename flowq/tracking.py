"""Experiment tracking of a search: `flowq search ... --log tensorboard DIR` (`pip install 'flowq[tensorboard]'`).

Every generation the tracker logs, at step = generation (1-based):

    hypervolume            scalar, against the run's fixed reference point
    front_size             scalar
    best/<objective>       scalar, the best raw value of each objective over the feasible archive (accuracy as psi)
    front                  text: the front as a Markdown table (index, psi %, objectives, b_W, b_A)
    config                 text (first generation): the problem's config and the search settings, as JSON

TensorBoard files land in DIR/<level>-<run_id> (one run per search, so `tensorboard --logdir DIR` compares runs).
The backend package is imported only when a tracker is made.
"""

from __future__ import annotations

from pathlib import Path

from hwmodels.errors import FlowQError

BACKENDS = ("tensorboard",)


def make_tracker(backend: str, folder):
    """A tracker for `backend` writing under `folder`.

    Raises:
        FlowQError: unknown backend, empty folder, or the backend's package is missing.
    """
    if backend not in BACKENDS:
        raise FlowQError(f"--log {backend!r}: allowed backends: {', '.join(BACKENDS)} (e.g. --log tensorboard runs/tb)")
    if not str(folder).strip():
        raise FlowQError("--log tensorboard '': give the folder for the TensorBoard files")
    return TensorBoardTracker(folder)


def front_table(monitor) -> str:
    """The monitor's current front as a Markdown table (psi in %, hardware objectives raw)."""
    objectives = list(monitor.problem.objectives)
    rows = ["| # | " + " | ".join("psi [%]" if o == "accuracy" else o for o in objectives) + " | b_W | b_A |",
            "|---" * (len(objectives) + 3) + "|"]
    for k, i in enumerate(monitor.front):
        solution = monitor.solution(int(i))
        metrics = solution["metrics"]
        values = [f"{100 * metrics[o]:.2f}" if o == "accuracy" else f"{metrics[o]:.5g}" for o in objectives]
        rows.append(f"| {k} | " + " | ".join(values) + f" | {solution['bits_w']} | {solution['bits_a']} |")
    return "\n".join(rows)


class TensorBoardTracker:
    """Logs a search to TensorBoard event files (torch.utils.tensorboard; needs the `tensorboard` package).

    Args:
        folder: parent folder; each search writes its own sub-folder <level>-<run_id>.
    """

    def __init__(self, folder):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise FlowQError("--log tensorboard needs the tensorboard package: pip install 'flowq[tensorboard]'") \
                from None
        self._writer_class = SummaryWriter
        self.folder = Path(folder)
        self.writers: dict = {}

    def log_dir(self, monitor) -> Path:
        """Where this search's event files go."""
        return self.folder / f"{monitor.problem.level}-{monitor.run_id}"

    def generation(self, monitor, gen: int) -> None:
        """Log generation `gen` (1-based) of the search `monitor` (a `flowq.callbacks.SearchMonitor`) watches."""
        writer = self.writers.get(monitor.run_id)
        if writer is None:
            try:
                writer = self.writers[monitor.run_id] = self._writer_class(str(self.log_dir(monitor)))
            except OSError as error:
                raise FlowQError(f"--log: cannot write {self.log_dir(monitor)} ({error})") from None
            config = {"config": monitor.problem.config(), "search": monitor.meta, "ref_point": monitor.ref_point}
            from flowq.runs import dumps

            writer.add_text("config", "```json\n" + dumps(config) + "\n```", gen)
        writer.add_scalar("hypervolume", float(monitor.hypervolume[-1]), gen)
        writer.add_scalar("front_size", len(monitor.front), gen)
        for name, value in monitor.best_per_objective().items():
            if value is not None:
                writer.add_scalar(f"best/{name}", float(value), gen)
        writer.add_text("front", front_table(monitor), gen)
        writer.flush()

    def close(self) -> None:
        """Flush and close every event file."""
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()


def read_scalars(log_dir) -> dict:
    """{tag: [(step, value), ...]} of a TensorBoard folder (tensorboard's EventAccumulator), e.g. to check a run."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def read_texts(log_dir) -> dict:
    """{tag: [(step, text), ...]} of the text summaries of a TensorBoard folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    events = EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    events.Reload()
    out = {}
    for tag in events.Tags()["tensors"]:
        out[tag.removesuffix("/text_summary")] = [
            (e.step, tensor_util.make_ndarray(e.tensor_proto).item().decode("utf-8")) for e in events.Tensors(tag)]
    return out
