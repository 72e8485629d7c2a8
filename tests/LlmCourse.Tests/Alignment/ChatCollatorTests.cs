using LlmCourse.Alignment;
using LlmCourse.Tensors;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tests.Alignment;

public sealed class ChatCollatorTests
{
    static ChatTemplate Template() => ChatTemplate.ForCharacters(['a', 'b', 'c'], ['1']);

    [Fact]
    public void Collate_ShiftsMasksAndPads()
    {
        var template = Template();
        var batch = new ChatCollator(template, maxLength: 64).Collate([template.Render("ab", "c1"), template.Render("a", "b")]);
        // Row 0: ids 4 5 0 1 6 7 2 3 8 → inputs the first 8, targets the last 8 where the mask is 1.
        // Row 1: ids 4 5 0 6 7 1 8 → 6 inputs, padded with <|pad|> (9) and −100.
        Assert.Equal([2, 8], batch.Inputs.Shape);
        Assert.Equal([4, 5, 0, 1, 6, 7, 2, 3, 4, 5, 0, 6, 7, 1, 9, 9], batch.Inputs.ToInt32Array());
        Assert.Equal([-100, -100, -100, -100, -100, 2, 3, 8, -100, -100, -100, -100, 1, 8, -100, -100], batch.Targets.ToInt32Array());
        Assert.Equal([8, 6], batch.Lengths);
        Assert.Equal(5, batch.CountedTargets);
    }

    [Fact]
    public void Collate_TruncatesToMaxLength_KeepingEachInputsNextTokenAsItsTarget()
    {
        // Row 0 is ids 4 5 0 1 6 7 2 3 8 (9 tokens, 8 predictions): with a window of 6, the first 6 inputs and the
        // targets one to their right, the last one (id 2, an answer token) counted; the conversation's end is cut off.
        var template = Template();
        var batch = new ChatCollator(template, maxLength: 6).Collate([template.Render("ab", "c1")]);
        Assert.Equal([1, 6], batch.Inputs.Shape);
        Assert.Equal([4, 5, 0, 1, 6, 7], batch.Inputs.ToInt32Array());
        Assert.Equal([-100, -100, -100, -100, -100, 2], batch.Targets.ToInt32Array());
        Assert.Equal([6], batch.Lengths);
    }

    [Fact]
    public void Collate_WithoutPromptMasking_TargetsEveryRealToken()
    {
        var template = Template();
        var batch = new ChatCollator(template, 64, maskPrompt: false).Collate([template.Render("ab", "c1"), template.Render("a", "b")]);
        Assert.Equal([5, 0, 1, 6, 7, 2, 3, 8, 5, 0, 6, 7, 1, 8, -100, -100], batch.Targets.ToInt32Array());
    }

    [Fact]
    public void MaskedPositions_ContributeExactlyZeroGradient_AndDoNotChangeTheLoss()
    {
        var template = Template();
        var batch = new ChatCollator(template, 64).Collate([template.Render("ab", "c1"), template.Render("a", "b")]);
        var targets = batch.Targets.ToInt32Array();
        var V = template.Tokenizer.VocabSize;
        var values = Tensor.Randn([2 * 8, V], new Generator(3)).ToArray();
        var logits = Tensor.FromArray(values, 2 * 8, V);
        logits.RequiresGrad = true;
        var loss = F.CrossEntropy(logits, batch.Targets.View(16));
        loss.Backward();
        var grad = logits.Grad!.ToArray();
        for (var row = 0; row < 16; row++)
        {
            var rowGrad = grad.AsSpan(row * V, V).ToArray();
            if (targets[row] == ChatCollator.IgnoreIndex) Assert.All(rowGrad, g => Assert.Equal(0f, g));
            else Assert.Contains(rowGrad, g => g != 0f);
        }
        // Any change to the logits at ignored positions leaves the loss exactly as it was.
        var changed = (float[])values.Clone();
        for (var row = 0; row < 16; row++)
            if (targets[row] == ChatCollator.IgnoreIndex)
                for (var v = 0; v < V; v++) changed[row * V + v] += 5f * (v % 3);
        Assert.Equal(loss.Item(), F.CrossEntropy(Tensor.FromArray(changed, 16, V), batch.Targets.View(16)).Item());
        // The mean is over the 5 counted targets: the sum of their losses divided by 5.
        var perTarget = F.CrossEntropy(Tensor.FromArray(values, 16, V), batch.Targets.View(16), reduction: Reduction.None).ToArray();
        Assert.Equal(perTarget.Sum() / 5, loss.Item(), 5);
    }
}
