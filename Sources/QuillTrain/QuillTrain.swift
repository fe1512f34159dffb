/// Training loops: truncated BPTT batching, schedules, training state (see docs/training.md).
///
/// This module holds the data and schedule side of training, which needs no tensors: ``TokenIDs`` (a corpus as one
/// id stream), ``Batcher`` (B parallel streams cut into windows of T steps), ``LearningRateSchedule``,
/// ``EarlyStopping``, ``RunningMean`` and ``Perplexity``, ``TrainingState`` (a checkpoint's record besides tensors) and
/// ``TrainingPreset`` (the literature's hyperparameters as data).
