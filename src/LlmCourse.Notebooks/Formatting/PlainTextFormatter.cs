using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace LlmCourse.Notebooks.Formatting;

/// <summary>
/// text/plain for values without a formatter, roughly as the kernel prints them: strings as they are,
/// sequences as <c>[ 1, 2, 3 ]</c> (the first 20 items, then "... (N more)"), types with their own
/// <c>ToString</c> through it, other objects as <c>Type { Property = value, ... }</c>.
/// </summary>
public static class PlainTextFormatter
{
    public const string NullText = "<null>";
    public const int ListExpansionLimit = 20;
    const int DepthLimit = 3;

    public static string Format(object? value)
    {
        var text = new StringBuilder();
        Write(value, text, 0);
        return text.ToString();
    }

    static void Write(object? value, StringBuilder text, int depth)
    {
        switch (value)
        {
            case null:
                text.Append(NullText);
                return;
            case string s:
                text.Append(s);
                return;
            case IFormattable f when value.GetType().IsPrimitive || value is decimal or Enum or DateTime or DateTimeOffset or TimeSpan:
                text.Append(f.ToString(null, CultureInfo.InvariantCulture));
                return;
        }

        var type = value.GetType();
        if (HasOwnToString(type) && !IsFrameworkCollection(type))
        {
            text.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
            return;
        }
        if (depth >= DepthLimit)
        {
            text.Append(TypeName(type));
            return;
        }
        if (value is IEnumerable sequence)
        {
            WriteSequence(sequence, text, depth);
            return;
        }
        text.Append(TypeName(type)).Append(" { ");
        var first = true;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            if (!first) text.Append(", ");
            first = false;
            text.Append(property.Name).Append(" = ");
            object? member;
            try { member = property.GetValue(value); }
            catch (TargetInvocationException e) { member = $"({e.InnerException?.GetType().Name})"; }
            Write(member, text, depth + 1);
        }
        text.Append(first ? "}" : " }");
    }

    static void WriteSequence(IEnumerable sequence, StringBuilder text, int depth)
    {
        text.Append("[ ");
        var count = 0;
        var more = 0;
        foreach (var item in sequence)
        {
            if (count < ListExpansionLimit)
            {
                if (count > 0) text.Append(", ");
                Write(item, text, depth + 1);
                count++;
            }
            else more++;
        }
        if (more > 0) text.Append(" ... (").Append(more).Append(" more)");
        if (count == 0) text.Length -= 1; // "[]", not "[ ]"
        text.Append(count == 0 ? "]" : " ]");
    }

    static bool HasOwnToString(Type type) =>
        type.GetMethod("ToString", Type.EmptyTypes)?.DeclaringType is { } declaring
        && declaring != typeof(object) && declaring != typeof(ValueType);

    /// <summary>List&lt;T&gt;, arrays, dictionaries: printed item by item, not with their (type-name) ToString.</summary>
    static bool IsFrameworkCollection(Type type) =>
        type.IsArray || (typeof(IEnumerable).IsAssignableFrom(type) && type.Namespace?.StartsWith("System", StringComparison.Ordinal) == true);

    static string TypeName(Type type)
    {
        if (!type.IsGenericType) return type.Name;
        var name = type.Name[..type.Name.IndexOf('`')];
        return $"{name}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>";
    }
}
