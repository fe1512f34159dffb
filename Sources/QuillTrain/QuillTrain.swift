/// Training loops: truncated BPTT batching, schedules, training state (see docs/training.md).
