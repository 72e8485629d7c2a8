using System.Reflection;
using LlmCourse.Charts;
using LlmCourse.Notebooks.Formatting;
using LlmCourse.Notebooks.Model;
using LlmCourse.Tensors;

namespace LlmCourse.Notebooks.Tests.Formatting;

/// <summary>
/// Every library type with a text of its own (a record, or a class that overrides ToString) shows that
/// text when a cell ends with it, in the kernel and in the runner, instead of the kernel's property
/// table: it carries a formatter by convention. A type added later (lessons 05-08) is checked the
/// moment it exists; the failure says what to add.
/// </summary>
public sealed class LibraryTypeFormattingTests
{
    static bool IsRecord(Type type) => type.GetMethod("PrintMembers", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public) is not null;

    static bool HasOwnToString(Type type) =>
        type.GetMethod("ToString", Type.EmptyTypes)?.DeclaringType is { } declaring && declaring != typeof(object) && declaring != typeof(ValueType)
        && declaring.Assembly == type.Assembly;

    public static TheoryData<Type> TypesWithText()
    {
        var data = new TheoryData<Type>();
        foreach (var assembly in new[] { typeof(Tensor).Assembly, typeof(View).Assembly })
            foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
            {
                if (type.IsInterface || type.IsEnum || type.IsGenericTypeDefinition || (type.IsAbstract && type.IsSealed)) continue;
                if (typeof(Exception).IsAssignableFrom(type) || typeof(Attribute).IsAssignableFrom(type) || typeof(Delegate).IsAssignableFrom(type)) continue;
                if (IsRecord(type) || HasOwnToString(type)) data.Add(type);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(TypesWithText))]
    public void ATypeWithItsOwnText_RendersThroughTheFormatterConvention_WithTextPlain(Type type)
    {
        var lookup = FormatterConvention.For(type);

        Assert.True(lookup.Formatters.Count > 0,
            $"{type.FullName} has a text of its own but no formatter: a notebook cell ending with it shows the kernel's property table. " +
            "Mark it [TypeFormatterSource(typeof(TextFormatterSource))] (namespace LlmCourse.Tensors.Formatting), or derive it from LlmCourse.Charts.View.");
        Assert.Contains(MimeBundle.PlainText, lookup.MimeTypes);
    }

    [Fact]
    public void TheRunnerSendsWhatTheKernelSends_TextOnlyForATextValue_HtmlAndTextForAView()
    {
        var tensor = Tensor.FromArray([1f, 2f, 3f]);

        var text = ValueFormatter.Format(tensor);
        var view = ValueFormatter.Format(new LineChart("Loss").Add("train", new[] { 2.0, 1.0 }));

        Assert.Equal([MimeBundle.PlainText], text.Items.Select(i => i.Key));
        Assert.Equal("tensor([1., 2., 3.])", text[MimeBundle.PlainText]);
        Assert.Equal([MimeBundle.Html, MimeBundle.PlainText], view.Items.Select(i => i.Key));
    }
}
