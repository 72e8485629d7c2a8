using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LlmCourse.Notebooks.Tests.Support;

/// <summary>
/// Builds two tiny DLLs for reference.ipynb: FixtureLib (a formatter by convention, with its own
/// TypeFormatterSourceAttribute) and FixtureDep, which FixtureLib uses but the notebook never names,
/// so loading it tests that #r dependencies resolve from the DLL's folder.
/// </summary>
public static class FixtureLibrary
{
    const string DepSource = """
        namespace FixtureDep;
        public static class Loud
        {
            public static string Shout(string text) => text.ToUpperInvariant() + "!";
        }
        """;

    const string LibSource = """
        using System;
        using System.Collections.Generic;
        using System.IO;

        namespace FixtureLib
        {
            public static class Greeter
            {
                public static string Greet(string name) => "Hello, " + FixtureDep.Loud.Shout(name);
            }

            // Static state: each run of a notebook must start from zero.
            public static class Counter
            {
                static int count;
                public static int Next() => ++count;
            }

            [TypeFormatterSource(typeof(SmileyFormatterSource))]
            public class Smiley(string name)
            {
                public string Name { get; } = name;
            }

            // Inherits the attribute: the kernel reads attributes with inherit: true.
            public class BigSmiley(string name) : Smiley(name);

            // The formatter declines: the value falls back to plain text.
            [TypeFormatterSource(typeof(SmileyFormatterSource))]
            public class Shy
            {
                public override string ToString() => "shy";
            }

            public sealed class SmileyFormatterSource
            {
                public IEnumerable<object> CreateTypeFormatters()
                {
                    yield return new SmileyHtml();
                    yield return new SmileyText();
                }
            }

            sealed class SmileyHtml
            {
                public string MimeType => "text/html";
                public Type Type => typeof(object);
                public bool Format(object instance, TextWriter writer)
                {
                    if (instance is not Smiley smiley) return false;
                    writer.Write("<span class=\"smiley\">:) " + smiley.Name + "</span>");
                    return true;
                }
            }

            sealed class SmileyText
            {
                public string MimeType => "text/plain";
                public bool Format(object instance, TextWriter writer)
                {
                    if (instance is not Smiley smiley) return false;
                    writer.Write(":) " + smiley.Name);
                    return true;
                }
            }
        }

        namespace Anywhere.Else
        {
            // Matched by name, in any namespace, as the kernel does.
            [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = true, Inherited = true)]
            public sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
            {
                public Type FormatterSourceType { get; } = formatterSourceType;
            }
        }
        """;

    /// <summary>
    /// An assembly named LlmCourse that is not the course library: the test host has the real one
    /// loaded, and a notebook that references this one must get this one.
    /// </summary>
    public static string BuildImpostor(string folder)
    {
        var lib = Directory.CreateDirectory(Path.Combine(folder, "impostor")).FullName;
        var path = Path.Combine(lib, "LlmCourse.dll");
        Emit("LlmCourse", "namespace Impostor; public static class Marker { public static string Where => \"the notebook's own LlmCourse.dll\"; }",
            Framework(), path);
        return path;
    }

    static List<MetadataReference> Framework() =>
        Directory.EnumerateFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
            .Where(p => !Path.GetFileName(p).StartsWith("Microsoft.VisualBasic", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList();

    /// <summary>Writes lib/FixtureDep.dll and lib/FixtureLib.dll under <paramref name="folder"/>.</summary>
    public static void Build(string folder)
    {
        var lib = Directory.CreateDirectory(Path.Combine(folder, "lib")).FullName;
        var framework = Framework();
        var dep = Path.Combine(lib, "FixtureDep.dll");
        Emit("FixtureDep", DepSource, framework, dep);
        Emit("FixtureLib", LibSource.Replace("[TypeFormatterSource(", "[Anywhere.Else.TypeFormatterSource("),
            [.. framework, MetadataReference.CreateFromFile(dep)], Path.Combine(lib, "FixtureLib.dll"));
    }

    static void Emit(string name, string source, IEnumerable<MetadataReference> references, string path)
    {
        var compilation = CSharpCompilation.Create(name, [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Disable));
        var result = compilation.Emit(path);
        if (!result.Success)
            throw new InvalidOperationException($"{name} did not compile:\n" +
                string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
    }
}
