/// Layers with explicit forward and backward passes (see docs/nn.md).
