namespace LlmCourse.Text;

/// <summary>A dataset could be neither found locally nor downloaded and verified.</summary>
public sealed class DatasetUnavailableException(string message, Exception? inner = null)
    : IOException(message, inner);
