using System.Globalization;
using System.Text;
using LlmCourse.Text;

namespace LlmCourse.Data;

/// <summary>
/// The junk a web crawl brings along, made by code so a lesson can measure what cleaning buys:
/// navigation and footer lines, exact and lightly edited copies, keyword spam, gibberish, ASCII
/// art, tables of numbers and pages stamped from one template. Every generator takes its
/// randomness from the seeded <see cref="TinyPlays.SplitMix64"/>, so a corpus is the same on every machine.
/// </summary>
internal sealed class CrawlNoise(TinyPlays.SplitMix64 rng)
{
    static readonly string[] NavigationLines =
    [
        "Home | Plays | Sonnets | Characters | About us | Contact",
        "Skip to main content",
        "You are here: Home > Plays > Full text",
        "Log in or register to post comments and share your favourite scenes",
        "This site uses cookies to improve your experience. Accept all cookies",
    ];

    static readonly string[] FooterLines =
    [
        "Copyright © 2024 Globe Stage Online. All rights reserved.",
        "Share this page: Facebook | Twitter | Email | Print",
        "Privacy policy | Terms of use | Advertise with us | Sitemap",
        "Related posts: the ten best plays you must read before you die",
    ];

    static readonly string[] Keywords =
    [
        "cheap tickets", "theatre tickets", "best price", "buy now", "free shipping", "discount", "online deals",
        "play tickets london", "cheap theatre", "best seats", "last minute tickets", "ticket offers",
    ];

    static readonly string[] Products = ["theatre tickets", "stage costumes", "quill pens", "velvet curtains", "prop swords", "drama lessons"];
    static readonly string[] Cities = ["London", "Stratford", "Verona", "Padua", "Windsor", "Venice", "York", "Dover"];

    static readonly string[] Replacements = ["good", "sir", "now", "well", "indeed", "the", "my", "our", "yet", "so"];

    /// <summary>The page wrapped in a site's navigation bar above and footer below.</summary>
    public string WithBoilerplate(string page)
    {
        var text = new StringBuilder();
        foreach (var line in NavigationLines.Take(2 + rng.Below(NavigationLines.Length - 1))) text.Append(line).Append('\n');
        text.Append('\n').Append(page.TrimEnd('\n')).Append("\n\n");
        foreach (var line in FooterLines.Take(1 + rng.Below(FooterLines.Length))) text.Append(line).Append('\n');
        return text.ToString();
    }

    /// <summary>The same page as a crawler meets it twice: different spacing and case, the same normal form.</summary>
    public string ExactCopy(string page)
    {
        var lines = page.Split('\n');
        if (lines.Length > 0) lines[0] = lines[0].ToUpperInvariant();
        return string.Join('\n', lines.Select(l => rng.Chance(30) ? l.Replace(" ", "  ") + " " : l));
    }

    /// <summary>A light edit: a word changed, dropped or doubled every ~60 words, and maybe a line appended.</summary>
    public string NearCopy(string page)
    {
        var lines = page.Split('\n').Select(l => l.Split(' ').ToList()).ToList();
        var words = lines.Sum(l => l.Count);
        for (var edit = 0; edit < 1 + words / 60; edit++)
        {
            var line = lines[rng.Below(lines.Count)];
            if (line.Count < 2) continue;
            var at = rng.Below(line.Count);
            switch (rng.Below(3))
            {
                case 0: line[at] = rng.Pick(Replacements); break;
                case 1: line.RemoveAt(at); break;
                default: line.Insert(at, line[at]); break;
            }
        }
        var text = string.Join('\n', lines.Select(l => string.Join(' ', l)));
        return rng.Chance(50) ? text.TrimEnd('\n') + "\n\n(Reposted from an older archive of this play.)\n" : text;
    }

    public string KeywordSpam()
    {
        var text = new StringBuilder();
        var lines = 8 + rng.Below(12);
        for (var i = 0; i < lines; i++)
        {
            var count = 4 + rng.Below(6);
            text.Append(string.Join(' ', Enumerable.Range(0, count).Select(_ => rng.Pick(Keywords)))).Append('\n');
        }
        return text.ToString();
    }

    public string Gibberish()
    {
        const string letters = "abcdefghijklmnopqrstuvwxyz";
        var text = new StringBuilder();
        var words = 80 + rng.Below(160);
        for (var i = 0; i < words; i++)
        {
            var length = 2 + rng.Below(9);
            for (var c = 0; c < length; c++) text.Append(letters[rng.Below(letters.Length)]);
            text.Append(rng.Chance(8) ? ".\n" : rng.Chance(10) ? ", " : " ");
        }
        return text.ToString().TrimEnd() + "\n";
    }

    static readonly string[][] Pictures =
    [
        [" /\\_/\\  ", "( o.o ) ", " > ^ <  "],
        ["  ___  ", " |   | ", " |___| ", " /   \\ "],
        ["   *   ", "  ***  ", " ***** ", "*******", "   |   "],
        [" _____ ", "|  _  |", "| |_| |", "|_____|"],
    ];

    public string AsciiArt()
    {
        var text = new StringBuilder();
        var banner = new string(rng.Pick(['#', '=', '*', '~']), 20 + rng.Below(40));
        text.Append(banner).Append('\n');
        for (var block = 0; block < 2 + rng.Below(4); block++)
        {
            var picture = rng.Pick(Pictures);
            var repeat = 1 + rng.Below(5);
            foreach (var row in picture) text.Append(string.Concat(Enumerable.Repeat(row, repeat))).Append('\n');
            text.Append(rng.Chance(50) ? banner + "\n" : "\n");
        }
        text.Append("### ").Append(rng.Pick(["WELCOME", "MY PAGE", "GUESTBOOK", "UNDER CONSTRUCTION"])).Append(" ###\n");
        return text.ToString();
    }

    public string NumberTable()
    {
        var text = new StringBuilder("Year | Performances | Seats sold | Revenue | Share\n");
        var rows = 10 + rng.Below(25);
        var year = 1900 + rng.Below(100);
        for (var r = 0; r < rows; r++)
            text.Append(string.Create(CultureInfo.InvariantCulture,
                $"{year + r} | {rng.Below(400)} | {rng.Below(90_000):N0} | {rng.Below(5_000_000):N0} | {rng.Below(1000) / 10.0:F1}%\n"));
        return text.ToString();
    }

    /// <summary>A page stamped from one template, a product and a city filled in.</summary>
    public string TemplatedSpam()
    {
        var product = rng.Pick(Products);
        var city = rng.Pick(Cities);
        var price = 5 + rng.Below(95);
        return $"""
            Best {product} in {city} - cheap {product} for sale
            Looking for {product} in {city}? We have the best {product} in {city} at the lowest prices.
            Our {product} are the best {product} you can buy in {city}. Buy {product} in {city} today!
            {product} {city} | cheap {product} {city} | best {product} {city} | {product} for sale {city}
            Order now and get {product} delivered anywhere in {city} from only £{price}.
            Customers who bought {product} in {city} also bought {rng.Pick(Products)} in {rng.Pick(Cities)}.
            Click here to buy {product} in {city} now!!!

            """;
    }
}
