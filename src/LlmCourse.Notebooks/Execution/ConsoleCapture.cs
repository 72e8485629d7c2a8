using System.Text;

namespace LlmCourse.Notebooks.Execution;

/// <summary>
/// Console.Out and Console.Error replaced, once per process, by writers that send text to the running
/// cell (stream outputs "stdout"/"stderr") and to the real console otherwise. Writes from outside a
/// cell, a progress display's for instance, are untouched.
/// </summary>
static class ConsoleCapture
{
    static readonly Lock gate = new();
    static bool installed;

    internal static void Install()
    {
        lock (gate)
        {
            // A flag, not a type test: Console.SetOut wraps what it is given in a synchronised writer.
            if (installed) return;
            installed = true;
            Console.SetOut(new Router(Console.Out, "stdout"));
            Console.SetError(new Router(Console.Error, "stderr"));
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
