using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;

namespace LlmCourse.Models;

/// <summary>A language model with parameters, trained by gradient descent on windows of tokens.</summary>
public interface INeuralLanguageModel : ILanguageModel
{
    /// <summary>The model as a module: its parameters, state dict, train/eval mode.</summary>
    Module Module { get; }

    /// <summary>The window length T the model trains on (the block size).</summary>
    int ContextLength { get; }

    /// <summary>Next-token logits (B, T, V) for tokens (B, T) Int32.</summary>
    Tensor Logits(Tensor inputs);

    /// <summary>Mean cross-entropy, in nats per token, of predicting <paramref name="targets"/> (B, T)
    /// from <paramref name="inputs"/> (B, T), both Int32; targets are the inputs shifted by one.</summary>
    Tensor Loss(Tensor inputs, Tensor targets);
}

/// <summary>A recurrent model whose state can be carried from one window to the next (truncated BPTT).</summary>
public interface IStatefulLanguageModel : INeuralLanguageModel
{
    /// <summary>Like <see cref="INeuralLanguageModel.Loss"/>, but starts from the state the previous
    /// call ended in, and keeps (detached) the state this one ends in.</summary>
    Tensor LossCarryingState(Tensor inputs, Tensor targets);

    void ResetState();

    /// <summary>The carried state, for checkpoints; empty after <see cref="ResetState"/>.</summary>
    Tensor[] CarriedState { get; set; }
}
