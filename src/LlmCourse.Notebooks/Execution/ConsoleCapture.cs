using System.Text;

namespace LlmCourse.Notebooks.Execution;

/// <summary>
/// Console.Out and Console.Error replaced, once per process, by writers that send text to the running
/// cell (stream outputs "stdout"/"stderr") and to the real console otherwise. Writes from outside a
/// cell, a progress display's for instance, are untouched.
/// </summary>
public static class ConsoleCapture
{
    static readonly Lock gate = new();
    static TextWriter? originalOut;
    static TextWriter? originalError;

    /// <summary>The console's own standard output, from before capturing began.</summary>
    public static TextWriter OriginalOut => originalOut ?? Console.Out;

    public static TextWriter OriginalError => originalError ?? Console.Error;

    internal static void Install()
    {
        lock (gate)
        {
            if (Console.Out is Router) return;
            originalOut = Console.Out;
            originalError = Console.Error;
            Console.SetOut(new Router(originalOut, "stdout"));
            Console.SetError(new Router(originalError, "stderr"));
        }
    }

    sealed class Router(TextWriter fallback, string stream) : TextWriter
    {
        public override Encoding Encoding => fallback.Encoding;

        public override void Write(char value) => Write(value.ToString());

        public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

        public override void Write(string? value)
        {
            if (string.IsNullOrEmpty(value)) return;
            if (CellExecution.Current is { } cell) cell.WriteStream(stream, value);
            else fallback.Write(value);
        }

        public override void WriteLine(string? value) => Write((value ?? "") + NewLine);

        public override void Flush() => fallback.Flush();
    }
}
