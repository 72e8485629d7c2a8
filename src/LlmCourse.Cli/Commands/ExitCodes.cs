namespace LlmCourse.Cli.Commands;

/// <summary>
/// What every command returns: 0 success, 1 a notebook (or the check) failed, 2 the command line or
/// the files were wrong. Declared beside the commands, so they need nothing from the root that
/// assembles them (<c>CourseCli</c> repeats them for callers of the root).
/// </summary>
public static class ExitCodes
{
    public const int Success = 0, Failure = 1, UsageError = 2;
}
