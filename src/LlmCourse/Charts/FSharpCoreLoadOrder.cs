using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace LlmCourse.Charts;

/// <summary>
/// Makes Plotly.NET usable in the .NET Interactive kernel (VS Code, Jupyter), which loads a <c>#r</c>
/// DLL's dependencies with Roslyn's interactive assembly loader. That loader gives a dependency
/// requested at a version other than the file's its own fresh copy: Giraffe.ViewEngine (built against
/// FSharp.Core 5.0) would get a second FSharp.Core beside the one Plotly.NET (built against 10.1) uses,
/// and Plotly.NET then fails to start (<c>MissingMethodException</c>: <c>Attributes.get__id</c>, whose
/// <c>FSharpFunc</c> comes from the other copy). The loader hands the file's own version the copy it
/// loaded last from that file, so binding Giraffe's reference first, and every FSharp.Core 10.1
/// reference right after it, leaves one FSharp.Core for all of them. Only under that loader: everywhere
/// else the runtime binds one copy by itself.
/// </summary>
static class FSharpCoreLoadOrder
{
#pragma warning disable CA2255 // the order must be set before any code of this assembly asks for FSharp.Core: a module initializer is the one place
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void BindOneFSharpCore()
    {
        var context = AssemblyLoadContext.GetLoadContext(typeof(FSharpCoreLoadOrder).Assembly);
        if (context is null || !context.GetType().FullName!.StartsWith("Microsoft.CodeAnalysis.Scripting", StringComparison.Ordinal)) return;
        try
        {
            // Giraffe's own reference first: a member whose signature holds an FSharp.Core type binds it.
            var giraffe = context.LoadFromAssemblyName(new AssemblyName("Giraffe.ViewEngine"));
            _ = giraffe.GetType("Giraffe.ViewEngine.Attributes")?.GetMethod("get__id")?.ReturnType;
            // Then every assembly that asks for the file's version, before anything else asks for another.
            foreach (var name in new[] { "LlmCourse", "DynamicObj", "Plotly.NET", "Plotly.NET.CSharp" })
            {
                var assembly = name == "LlmCourse" ? typeof(FSharpCoreLoadOrder).Assembly : context.LoadFromAssemblyName(new AssemblyName(name));
                var reference = assembly.GetReferencedAssemblies().FirstOrDefault(r => r.Name == "FSharp.Core");
                if (reference is not null) AssemblyLoadContext.GetLoadContext(assembly)!.LoadFromAssemblyName(reference);
            }
        }
        catch (Exception error) when (error is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            // Plotly.NET's files are not beside the library: ToPlotly() will say so when it is called.
        }
    }
}
