using System.Diagnostics;

namespace LlmCourse.TestSupport;

/// <summary>
/// A folder that cannot take what is written to it, for the fault tests: a full disk (a tmpfs mount
/// of a few KiB) or a read-only one. Mounting needs root (CI and the development containers run as
/// root); without it a full disk cannot be simulated and the test skips, saying so (an allowed skip,
/// .ci/allowed-skips.txt), while a read-only folder falls back to chmod 555, which binds for a user
/// who is not root. Disposing unmounts and deletes the folder.
/// </summary>
internal sealed class FaultyDisk : IDisposable
{
    public const string SkipReason = "simulating a full or read-only disk needs a tmpfs mount (root)";

    readonly string root;
    bool mounted;

    FaultyDisk(string root) => this.root = root;

    /// <summary>The faulty folder.</summary>
    public string Path => root;

    /// <summary>A folder on a tmpfs of <paramref name="kilobytes"/> KiB: writing more fails with "No space left on device".</summary>
    public static FaultyDisk Full(int kilobytes)
    {
        var disk = new FaultyDisk(Directory.CreateTempSubdirectory("llmcourse-full-").FullName);
        if (!disk.Mount($"size={kilobytes}k"))
        {
            disk.Dispose();
            Assert.Skip($"{SkipReason}; mount -t tmpfs failed here");
        }
        return disk;
    }

    /// <summary>A folder that cannot be written: a read-only tmpfs, or chmod 555 where mounting is not allowed.</summary>
    public static FaultyDisk ReadOnly()
    {
        var disk = new FaultyDisk(Directory.CreateTempSubdirectory("llmcourse-ro-").FullName);
        if (disk.Mount("ro,size=64k")) return disk;
        if (!OperatingSystem.IsLinux() || Environment.UserName == "root")
        {
            disk.Dispose();
            Assert.Skip($"{SkipReason}; root ignores chmod and mount -t tmpfs failed here");
        }
        if (OperatingSystem.IsLinux())
            File.SetUnixFileMode(disk.root, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
                                        UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return disk;
    }

    bool Mount(string options)
    {
        if (!OperatingSystem.IsLinux()) return false;
        mounted = Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", root) == 0;
        return mounted;
    }

    static int Run(string program, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            process.WaitForExit(10_000);
            return process.HasExited ? process.ExitCode : -1;
        }
        catch (System.ComponentModel.Win32Exception) { return -1; }
    }

    public void Dispose()
    {
        if (mounted) Run("umount", "-l", root);
        try
        {
            if (OperatingSystem.IsLinux()) File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(root, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
