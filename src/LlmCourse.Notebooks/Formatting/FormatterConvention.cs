using System.Collections;
using System.Runtime.CompilerServices;
using System.Reflection;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Formatting;

/// <summary>One formatter found through the convention: what it writes and for which type.</summary>
public sealed record ConventionFormatter(string MimeType, Type Type, object Source, Func<object, TextWriter, bool> Format);

/// <summary>
/// The .NET Interactive kernel's convention-based formatter lookup, so a library can render in a
/// notebook without referencing the kernel (Formatter.TryRegisterFromConventionBasedFormatterSources):
/// <list type="bullet">
/// <item>the value's runtime type, with inherited attributes (<c>GetCustomAttributes(true)</c>), carries an
/// attribute whose class is named <c>TypeFormatterSourceAttribute</c> (any namespace, any assembly);</item>
/// <item>its public <c>FormatterSourceType</c> property names a class created with
/// <c>Activator.CreateInstance</c> (public parameterless constructor);</item>
/// <item>that class's public <c>CreateTypeFormatters()</c> returns an <c>IEnumerable</c> of formatters, each
/// with a public string <c>MimeType</c>, an optional <c>Type</c> (default: the attributed value's type) and
/// one public method <c>bool Format(object instance, TextWriter writer)</c>;</item>
/// <item>an optional <c>string[] PreferredMimeTypes</c> on the attribute names the MIME types sent for the
/// value; without it the kernel sends text/html, its default.</item>
/// </list>
/// Where several formatters write the same MIME type, the one for the most specific type is tried first,
/// then the later one (the kernel pushes them on a stack); the first that returns true wins.
/// </summary>
public static class FormatterConvention
{
    public const string AttributeName = "TypeFormatterSourceAttribute";

    // Weak: a notebook's types live in a load context that is unloaded after its run.
    static readonly ConditionalWeakTable<Type, Lookup> cache = new();

    /// <summary>What the convention offers for one type: its formatters and preferred MIME types.</summary>
    public sealed record Lookup(IReadOnlyList<ConventionFormatter> Formatters, IReadOnlyList<string> PreferredMimeTypes)
    {
        public static readonly Lookup None = new([], []);

        /// <summary>
        /// The MIME types the kernel sends for such a value: the preferred ones where the attribute
        /// names them (a text-only value is sent as text/plain alone, though its source also offers
        /// text/html), otherwise the kernel's default, text/html (Formatter.GetPreferredMimeTypesFor).
        /// </summary>
        public IEnumerable<string> MimeTypes => PreferredMimeTypes.Count > 0 ? PreferredMimeTypes.Distinct() : [MimeBundle.Html];
    }

    public static Lookup For(Type type) => cache.GetValue(type, Discover);

    /// <summary>Formats with the first matching formatter that accepts the value; null when none does.</summary>
    public static string? TryFormat(object value, string mimeType)
    {
        var type = value.GetType();
        var candidates = For(type).Formatters
            .Select((formatter, index) => (formatter, index))
            .Where(c => c.formatter.MimeType == mimeType && c.formatter.Type.IsAssignableFrom(type))
            .ToList();
        candidates.Sort((a, b) =>
            a.formatter.Type == b.formatter.Type ? b.index.CompareTo(a.index)
            : a.formatter.Type.IsAssignableFrom(b.formatter.Type) ? 1 : -1);
        foreach (var (formatter, _) in candidates)
        {
            using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
            bool accepted;
            try { accepted = formatter.Format(value, writer); }
            catch (Exception e)
            {
                var inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
                throw new InvalidOperationException(
                    $"The {mimeType} formatter {formatter.Source.GetType().FullName} failed on a {type.FullName}: {inner.Message}", inner);
            }
            if (accepted) return writer.ToString();
        }
        return null;
    }

    static Lookup Discover(Type type)
    {
        var formatters = new List<ConventionFormatter>();
        var preferred = new List<string>();
        foreach (var attribute in type.GetCustomAttributes(inherit: true).Where(a => a.GetType().Name == AttributeName))
        {
            if (Property(attribute, "FormatterSourceType") is Type sourceType)
            {
                var source = Activator.CreateInstance(sourceType)
                    ?? throw new InvalidOperationException($"{sourceType.FullName} could not be created.");
                var create = source.GetType().GetMethod("CreateTypeFormatters")
                    ?? throw new InvalidOperationException(
                        $"{sourceType.FullName}, the formatter source of {type.FullName}, has no public CreateTypeFormatters() method.");
                if (create.Invoke(source, null) is IEnumerable created)
                    foreach (var formatter in created)
                        if (formatter is not null && Adapt(formatter, type) is { } adapted) formatters.Add(adapted);
            }
            if (Property(attribute, "PreferredMimeTypes") is string[] mimeTypes) preferred.AddRange(mimeTypes);
        }
        if (formatters.Count == 0) return Lookup.None;
        return new Lookup(formatters, preferred);
    }

    static ConventionFormatter? Adapt(object formatter, Type attributedType)
    {
        if (Property(formatter, "MimeType") is not string mimeType) return null;
        var format = formatter.GetType().GetMethod("Format");
        if (format is null) return null;
        var formattedType = Property(formatter, "Type") as Type ?? attributedType;
        return new ConventionFormatter(mimeType, formattedType, formatter,
            (value, writer) => format.Invoke(formatter, [value, writer]) is true);
    }

    static object? Property(object target, string name) =>
        target.GetType().GetProperty(name)?.GetGetMethod()?.Invoke(target, null);
}
