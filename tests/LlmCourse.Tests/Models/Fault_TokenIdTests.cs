using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Text;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Models;

/// <summary>
/// Token ids from a tokenizer with a larger vocabulary than the model's are named at the model (its
/// name, the id, the vocabulary and what to do), not only deep inside the embedding, and the MLP, which
/// pads with the id VocabSize, refuses that id instead of reading it as padding.
/// </summary>
public sealed class Fault_TokenIdTests
{
    static readonly CharTokenizer Chars = CharTokenizer.FromText(TinyPlays.Generate(5_000, seed: 3));
    static int V => Chars.VocabSize;

    static Tensor Ids(params int[] ids) => Tensor.FromArray(ids, 1, ids.Length);

    static void NamedAtTheModel(string model, Action act, int id, string what = "token ids")
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(act);
        Assert.StartsWith($"{model}: {what} hold {id} ", e.Message);
        Assert.Contains($"outside the model's vocabulary of {V} (ids 0 to {V - 1})", e.Message);
        Assert.Contains("VocabSize = tokenizer.VocabSize", e.Message);
    }

    [Fact]
    public void Fault_Gpt2IdsIntoACharacterGpt_AreNamedAtTheGpt()
    {
        var gpt = new Gpt(new GptConfig(V, BlockSize: 8, Layers: 1, Heads: 2, Embedding: 16), Chars, new Generator(1));

        NamedAtTheModel(gpt.Name, () => gpt.Forward(Ids(1, 15496, 995)), 15496);
        NamedAtTheModel(gpt.Name, () => gpt.Forward(Ids(1, -1)), -1);
        NamedAtTheModel(gpt.Name, () => gpt.Loss(Ids(1, 2), Ids(3, V)), V, "targets");
        var e = Assert.Throws<ArgumentException>(() => gpt.Forward(Tensor.FromArray([1f, 2f], 1, 2)));
        Assert.Contains($"{gpt.Name}: token ids must be Int32 token ids, got Float32", e.Message);
    }

    [Fact]
    public void Fault_MaskedTargets_AreTheIgnoreIndexOnly_OtherNegativeTargetsAreNamed()
    {
        var gpt = new Gpt(new GptConfig(V, BlockSize: 8, Layers: 1, Heads: 2, Embedding: 16), Chars, new Generator(1));

        // −100 is cross-entropy's ignore index (prompt masking, padding): the loss skips it, as over the unmasked position alone.
        var masked = gpt.Loss(Ids(1, 2), Ids(-100, 3)).Item();
        var logits = gpt.Forward(Ids(1, 2));                                   // (1, 2, V)
        var alone = LlmCourse.Tensors.Functional.CrossEntropy(logits.Select(1, 1), Ids(3).View(1)).Item();
        Assert.Equal(alone, masked, 5);
        NamedAtTheModel(gpt.Name, () => gpt.Loss(Ids(1, 2), Ids(-1, 3)), -1, "targets");
    }

    [Fact]
    public void Fault_TheMlpsPaddingId_IsRefused_NotReadAsPadding()
    {
        var mlp = new MlpLanguageModel(new MlpConfig(V, Context: 3, Embedding: 8, Hidden: 16), Chars, new Generator(1));

        NamedAtTheModel(mlp.Name, () => mlp.Logits(Ids(1, V)), V);
        NamedAtTheModel(mlp.Name, () => mlp.Loss(Ids(1, 2), Ids(2, V + 5)), V + 5, "targets");
    }

    [Fact]
    public void Fault_IdsBeyondTheVocabulary_AreNamedAtTheRecurrentModel()
    {
        var rnn = new RecurrentLanguageModel(new RecurrentConfig(V, RecurrentKind.Gru, 8, 16, BlockSize: 8), Chars, new Generator(1));

        NamedAtTheModel(rnn.Name, () => rnn.Forward(Ids(0, 50_000)), 50_000);
        NamedAtTheModel(rnn.Name, () => rnn.Loss(Ids(1, 2), Ids(2, V)), V, "targets");
    }
}
