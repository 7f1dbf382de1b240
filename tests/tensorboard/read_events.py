"""Reads a run's TensorBoard event files with TensorBoard's own reader and prints them as JSON.

    python read_events.py RUN_DIR

RUN_DIR is one run of a --tensorboard DIR (DIR/<run name>). Output, one JSON object:

    {"file_version": "brain.Event:2", "writer": "tinytrain",
     "scalars": {"Loss/train": [[1, 0.98], [2, 0.71], ...], ...},
     "texts": {"hparams": [[0, "| option | value |..."]], "events": [[12, "`{...}`"]]},
     "wall_time": [first, last]}

Values are the f32 of the file as exact decimals; NaN and the infinities as the strings "NaN",
"Infinity", "-Infinity" (as metrics.jsonl spells them). Used by host/tests/tensorboard.rs and
tests/tests/monitor_qemu.rs.
"""

import json
import math
import sys

from tensorboard.backend.event_processing import event_accumulator as ea


def number(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def main(run_dir):
    # 0: keep every event (the default keeps 10 tensors per tag, sampled).
    accumulator = ea.EventAccumulator(
        run_dir, size_guidance={ea.SCALARS: 0, ea.TENSORS: 0}
    ).Reload()
    tags = accumulator.Tags()
    scalars, texts, times = {}, {}, []
    for tag in tags[ea.SCALARS]:
        events = accumulator.Scalars(tag)
        scalars[tag] = [[e.step, number(e.value)] for e in events]
        times += [e.wall_time for e in events]
    for tag in tags[ea.TENSORS]:
        events = accumulator.Tensors(tag)
        plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        if plugin != "text":
            raise SystemExit(f"{run_dir}: tag {tag} is for plugin {plugin!r}, not text")
        texts[tag] = [
            [e.step, b"".join(e.tensor_proto.string_val).decode()] for e in events
        ]
        times += [e.wall_time for e in events]
    print(
        json.dumps(
            {
                "file_version": accumulator.file_version,
                "writer": accumulator.GetSourceWriter(),
                "scalars": scalars,
                "texts": texts,
                "wall_time": [min(times), max(times)] if times else [],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
