using System.Text.RegularExpressions;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// The parameter list of each kernel, read from the PTX NVRTC made (<c>.entry name(.param .u64 ..., ...)</c>),
/// as codes that <see cref="KernelArgs"/> records for the values it packs: cuLaunchKernel copies each
/// parameter's bytes from the address it is given and checks nothing, so a launch that passes an int
/// where the kernel takes a long long, a float where it takes an int, or one argument too few would read
/// garbage (or past the host's array) silently. <see cref="CudaDevice.Launch"/> compares the two first.
/// </summary>
internal static partial class CudaKernelSignature
{
    /// <summary>Kinds of a parameter, in the high bits of a code; the size in bytes is in the low 16 bits.</summary>
    public const int Integer = 0, Float = 1, Blob = 2;

    public static int Code(int kind, int bytes) => (kind << 16) | bytes;

    /// <summary>"u32", "f32", "u64", "b200" (a struct passed by value): for messages.</summary>
    public static string Describe(int code)
    {
        int kind = code >> 16, bytes = code & 0xffff;
        return kind switch
        {
            Float => $"f{bytes * 8}",
            Blob => $"b{bytes}",
            _ => $"u{bytes * 8}",
        };
    }

    [GeneratedRegex(@"\.entry\s+(\w+)\s*\(([^)]*)\)")]
    private static partial Regex EntryPattern();

    // The type of one parameter, wherever it sits among the state space and attributes newer compilers
    // add (".param .u64 .ptr .global .align 4 name"), and an array length for a struct passed by value.
    [GeneratedRegex(@"\.([usbf])(8|16|32|64)\b")]
    private static partial Regex TypePattern();

    [GeneratedRegex(@"\[(\d+)\]\s*$")]
    private static partial Regex ArrayPattern();

    /// <summary>
    /// Every kernel of a PTX module with its parameters' codes, in order. A kernel with a parameter this
    /// reader does not understand is left out (its launches go unchecked, never wrongly refused).
    /// </summary>
    public static Dictionary<string, int[]> Parse(string ptx)
    {
        var result = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (Match entry in EntryPattern().Matches(ptx))
        {
            var codes = new List<int>();
            var understood = true;
            foreach (var parameter in entry.Groups[2].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var type = TypePattern().Match(parameter);
                if (!parameter.StartsWith(".param", StringComparison.Ordinal) || !type.Success)
                {
                    understood = false;
                    break;
                }
                var letter = type.Groups[1].Value[0];
                var bytes = int.Parse(type.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) / 8;
                var array = ArrayPattern().Match(parameter);
                codes.Add(array.Success
                    ? Code(Blob, bytes * int.Parse(array.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
                    : Code(letter == 'f' ? Float : Integer, bytes));
            }
            if (understood) result[entry.Groups[1].Value] = [.. codes];
        }
        return result;
    }

    /// <summary>Throws, naming the kernel and both lists, when the packed arguments do not match the kernel's parameters.</summary>
    public static void Check(string kernel, int[] expected, ReadOnlySpan<int> actual)
    {
        if (actual.SequenceEqual(expected)) return;
        throw new CudaException(
            $"Launching {kernel}: the host passes ({string.Join(", ", actual.ToArray().Select(Describe))}) but the kernel takes " +
            $"({string.Join(", ", expected.Select(Describe))}) (u: integer or pointer, f: float, b: struct, sizes in bits / bytes). " +
            "The launcher in CudaBackend*.cs and the kernel's signature in Kernels/*.cu disagree: fix the argument's C# type or order.");
    }
}
