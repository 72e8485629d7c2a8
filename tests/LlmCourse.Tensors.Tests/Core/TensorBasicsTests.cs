namespace LlmCourse.Tensors.Tests.Core;

public sealed class TensorBasicsTests
{
    [Fact]
    public void FactoriesHaveTheirShapesAndValues()
    {
        Check.Shape([2, 3], Tensor.Zeros(2, 3));
        Assert.All(Tensor.Ones(4).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(Tensor.Full([2, 2], 7.5f).ToArray(), v => Assert.Equal(7.5f, v));
        Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, Tensor.Eye(3).ToArray());
        Assert.Equal(0, Tensor.Scalar(3f).Rank);
        Assert.Equal(3f, Tensor.Scalar(3f).Item());
    }

    [Fact]
    public void ArangeOfIntegersIsInt32AndOfFloatsIsFloat32()
    {
        var ints = Tensor.Arange(5);
        Assert.Equal(DType.Int32, ints.DType);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, ints.ToInt32Array());
        Assert.Equal(new[] { 2, 5, 8 }, Tensor.Arange(2, 10, 3).ToInt32Array());
        var floats = Tensor.Arange(0f, 1f, 0.25f);
        Assert.Equal(DType.Float32, floats.DType);
        Assert.Equal(new[] { 0f, 0.25f, 0.5f, 0.75f }, floats.ToArray());
    }

    [Fact]
    public void LinspaceIncludesBothEnds()
    {
        var t = Tensor.Linspace(0f, 1f, 5).ToArray();
        Assert.Equal(new[] { 0f, 0.25f, 0.5f, 0.75f, 1f }, t);
    }

    [Fact]
    public void FromArrayChecksTheCount()
    {
        var e = Assert.Throws<TensorShapeException>(() => Tensor.FromArray(new float[5], 2, 3));
        Assert.Contains("[2,3]", e.Message);
        Check.Shape([6], Tensor.FromArray(new float[6]));
        var m = Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Check.Shape([2, 3], m);
        Assert.Equal(6f, m[1, 2]);
        Assert.Equal(4f, m[-1, 0]);
    }

    [Fact]
    public void IndexerAndItemCheckBounds()
    {
        var t = Tensor.Arange(0f, 6f).Reshape(2, 3);
        Assert.Throws<TensorShapeException>(() => t[2, 0]);
        var e = Assert.Throws<TensorShapeException>(() => t.Item());
        Assert.Contains("[2,3]", e.Message);
    }

    [Fact]
    public void DTypeConversionsRoundTrip()
    {
        var x = Tensor.FromArray([1.5f, -2.75f, 1f / 1024, 65504f]); // all exact in fp16
        Assert.Equal(x.ToArray(), x.To(DType.Float16).To(DType.Float32).ToArray());
        var bf = Tensor.FromArray([1f, 3.140625f, -0.5f]).To(DType.BFloat16);
        Assert.Equal(DType.BFloat16, bf.DType);
        Assert.Equal(new[] { 1f, 3.140625f, -0.5f }, bf.ToArray());
        // bf16 keeps 8 bits of mantissa: 1 + 2^-9 rounds to even, i.e. to 1.
        Assert.Equal(1f, Tensor.FromArray([1f + 1f / 512]).To(DType.BFloat16).ToArray()[0]);
        Assert.Equal(new[] { 1, -2, 0 }, Tensor.FromArray([1.9f, -2.9f, 0.2f]).To(DType.Int32).ToInt32Array());
    }

    [Fact]
    public void ToStringPrintsLikePyTorch()
    {
        Assert.Equal("tensor([1., 2., 3.])", Tensor.FromArray([1f, 2f, 3f]).ToString());
        Assert.Equal("tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]])", Tensor.FromArray([1.5f, 2f, 3f, 4f], 2, 2).ToString());
        Assert.Equal("tensor([1, 2], dtype=int32)", Tensor.FromArray([1, 2]).ToString());
        Assert.Equal("tensor(3.)", Tensor.Scalar(3f).ToString());
        Assert.Equal("tensor([0., 1.], requires_grad=True)", Tensor.FromArray([0f, 1f]).WithGrad().ToString());
        var summed = Tensor.FromArray([1f, 2f]).WithGrad().Sum();
        Assert.Equal("tensor(3., grad_fn=<SumBackward>)", summed.ToString());
        Assert.Contains("...", Tensor.Zeros(2000).ToString());
    }

    [Fact]
    public void DevicesAreNamedAndCudaIsReportedMissing()
    {
        Assert.Equal("cpu", Device.Cpu.ToString());
        Assert.Equal("cuda:1", Device.Cuda(1).ToString());
        Assert.Equal(Device.Cpu, Tensor.Zeros(1).Device);
        if (!Device.IsCudaAvailable)
        {
            var e = Assert.Throws<InvalidOperationException>(() => Tensor.Zeros([2], DType.Float32, Device.Cuda()));
            Assert.Contains("cuda:0", e.Message);
            // Not usable either, and the one problem is the driver's reason.
            Assert.False(Tensors.Cuda.IsUsable);
            Assert.Equal([Tensors.Cuda.Unavailability], Tensors.Cuda.Problems);
            Assert.NotEqual("", Tensors.Cuda.Unavailability);
        }
    }
}
