namespace LlmCourse.Text;

/// <summary>The short way in for notebooks: <c>Datasets.ReadText("tinyshakespeare")</c>.</summary>
public static class Datasets
{
    public static string GetPath(string name) => DatasetStore.Default.GetPath(name);

    public static string ReadText(string name) => DatasetStore.Default.ReadAllText(name);
}
