/// Training: the one loop, truncated BPTT batching, schedules, training state (see docs/training.md).
///
/// ``TrainingLoop`` trains any ``TrainingObjective`` (a model with its data: parameters, forward to a loss, backward)
/// with any `Optimizer`, checkpointing through a ``TrainingRecorder``; ``LanguageModelObjective`` is the recurrent
/// language model under truncated BPTT. Around it: ``TokenIDs`` (a corpus as one id stream), ``Batcher`` (B parallel
/// streams cut into windows of T steps), ``LearningRateSchedule``, ``EarlyStopping``, ``RunningMean`` and
/// ``Perplexity``, ``TrainingState`` (a checkpoint's record besides tensors) and ``TrainingPreset`` (the literature's
/// hyperparameters as data).
