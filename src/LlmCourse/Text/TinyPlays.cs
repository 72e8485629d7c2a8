using System.Text;

namespace LlmCourse.Text;

/// <summary>
/// The course's built-in corpus: short plays in TinyShakespeare's layout (a speaker's name in
/// capitals, a colon, then verse lines), written by a small probabilistic grammar with a fixed
/// seed. It ships as <c>datasets/tinyplays.txt</c> so every notebook runs with no network, and it
/// is learnable at every level the course looks at: letters make words (n-grams), subjects agree
/// with their verbs and questions get answers (what an RNN can carry), and the names a speech
/// uses are the ones who entered the scene many lines before (what attention can look back to).
/// </summary>
/// <remarks>
/// The committed file must equal <see cref="Generate"/>'s output; a test checks it. After a
/// change to the grammar, regenerate it with
/// <c>LLMCOURSE_REGENERATE=1 dotnet test tests/LlmCourse.Tests -c Release --filter TinyPlays</c>.
/// </remarks>
public static class TinyPlays
{
    public const string Name = "tinyplays";
    public const string FileName = "tinyplays.txt";
    public const int DefaultLength = 400_000;
    public const ulong DefaultSeed = 2003;

    /// <summary>Plays until the text is at least <paramref name="length"/> characters long.</summary>
    public static string Generate(int length = DefaultLength, ulong seed = DefaultSeed)
    {
        var writer = new PlayWriter(new SplitMix64(seed));
        var text = new StringBuilder(length + 20_000);
        while (text.Length < length) writer.Play(text);
        return text.ToString();
    }

    /// <summary>A tiny, portable, seeded generator (Steele et al. 2014), so the text never depends
    /// on the runtime's <see cref="Random"/>.</summary>
    internal sealed class SplitMix64(ulong seed)
    {
        ulong state = seed;

        public ulong Next()
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public int Below(int n) => (int)(Next() % (ulong)n);
        public bool Chance(int percent) => Below(100) < percent;
        public T Pick<T>(IReadOnlyList<T> items) => items[Below(items.Count)];
    }

    /// <summary>A noun with its plural; <c>Mass</c> nouns (gold, wine) take no article "a".</summary>
    sealed record Noun(string One, string Many, bool Mass = false);

    /// <summary>A verb in the forms the grammar needs: base, third person singular, past, past participle.</summary>
    sealed record Verb(string Base, string Third, string Past, string Participle, bool Transitive);

    /// <summary>A noun phrase and whether it takes a singular verb ("the king waits", "the kings wait").</summary>
    readonly record struct Phrase(string Text, bool Singular, bool IsI = false);

    sealed class PlayWriter(SplitMix64 rng)
    {
        static readonly Noun[] Nouns =
        [
            new("king", "kings"), new("queen", "queens"), new("lord", "lords"), new("lady", "ladies"),
            new("sword", "swords"), new("crown", "crowns"), new("horse", "horses"), new("river", "rivers"),
            new("castle", "castles"), new("letter", "letters"), new("ship", "ships"), new("storm", "storms"),
            new("field", "fields"), new("heart", "hearts"), new("friend", "friends"), new("enemy", "enemies"),
            new("soldier", "soldiers"), new("servant", "servants"), new("child", "children"), new("father", "fathers"),
            new("mother", "mothers"), new("brother", "brothers"), new("sister", "sisters"), new("night", "nights"),
            new("moon", "moons"), new("star", "stars"), new("wind", "winds"), new("gate", "gates"),
            new("tower", "towers"), new("garden", "gardens"), new("rose", "roses"), new("ring", "rings"),
            new("shepherd", "shepherds"), new("miller", "millers"), new("captain", "captains"), new("messenger", "messengers"),
            new("bell", "bells"), new("lamp", "lamps"), new("book", "books"), new("secret", "secrets"),
            new("promise", "promises"), new("oath", "oaths"), new("dream", "dreams"), new("song", "songs"),
            new("gold", "gold", Mass: true), new("wine", "wine", Mass: true), new("bread", "bread", Mass: true),
            new("honour", "honour", Mass: true), new("news", "news", Mass: true),
        ];

        static readonly string[] Adjectives =
        [
            "old", "young", "noble", "gentle", "bitter", "cold", "dark", "bright", "sweet", "proud", "wicked",
            "honest", "false", "brave", "weary", "silent", "golden", "ancient", "fair", "poor", "wise", "foolish",
            "strange", "heavy", "merry", "cruel", "kind", "loyal", "hungry", "quiet",
        ];

        static readonly Verb[] Verbs =
        [
            new("see", "sees", "saw", "seen", true), new("find", "finds", "found", "found", true),
            new("love", "loves", "loved", "loved", true), new("keep", "keeps", "kept", "kept", true),
            new("take", "takes", "took", "taken", true), new("bring", "brings", "brought", "brought", true),
            new("hold", "holds", "held", "held", true), new("fear", "fears", "feared", "feared", true),
            new("seek", "seeks", "sought", "sought", true), new("follow", "follows", "followed", "followed", true),
            new("betray", "betrays", "betrayed", "betrayed", true), new("defend", "defends", "defended", "defended", true),
            new("forget", "forgets", "forgot", "forgotten", true), new("remember", "remembers", "remembered", "remembered", true),
            new("guard", "guards", "guarded", "guarded", true), new("serve", "serves", "served", "served", true),
            new("know", "knows", "knew", "known", true), new("steal", "steals", "stole", "stolen", true),
            new("sleep", "sleeps", "slept", "slept", false), new("weep", "weeps", "wept", "wept", false),
            new("ride", "rides", "rode", "ridden", false), new("sing", "sings", "sang", "sung", false),
            new("wait", "waits", "waited", "waited", false), new("fall", "falls", "fell", "fallen", false),
            new("rise", "rises", "rose", "risen", false), new("come", "comes", "came", "come", false),
            new("go", "goes", "went", "gone", false), new("speak", "speaks", "spoke", "spoken", false),
            new("fight", "fights", "fought", "fought", false), new("return", "returns", "returned", "returned", false),
            new("pray", "prays", "prayed", "prayed", false), new("linger", "lingers", "lingered", "lingered", false),
        ];

        static readonly string[] Places =
        [
            "the hall", "the gate", "the river", "the hill", "the castle", "the tower", "the field", "the garden",
            "the court", "the shore", "the forest", "the mill", "the chapel", "the market", "the bridge", "the harbour",
        ];

        static readonly string[] Prepositions = ["in", "at", "by", "upon", "within", "beneath", "across", "near", "behind"];

        static readonly string[] Times =
        [
            "at dawn", "tonight", "at midnight", "before the morning", "ere the sun is up", "this very hour",
            "tomorrow", "when the moon is high", "at evening", "before the bells", "while the city sleeps",
        ];

        static readonly string[] Lands = ["the north", "the south", "the coast", "the city", "the border", "the hills", "the sea", "the west"];

        static readonly string[] Names =
        [
            "ALDRIC", "BRIONY", "CEDRIC", "DORCAS", "EDMUND", "FENELLA", "GARETH", "HESTER", "IVO", "JESSAMY",
            "KATERINE", "LEOFRIC", "MARGERY", "NEDWIN", "OSWIN", "PRISCA", "ROWENA", "SELWYN", "TAMSIN", "WULFRIC",
            "AMICE", "BALDWIN", "CLEMENCE", "DUNSTAN", "ELFRIDA", "GODRIC", "HILDA", "OSBERT",
        ];

        static readonly string[] Roles = ["KING", "QUEEN", "DUKE", "NURSE", "MILLER", "SHEPHERD", "CAPTAIN", "FIRST CITIZEN", "SECOND CITIZEN", "FRIAR"];

        static readonly string[] Genres = ["THE TRAGEDY OF", "THE COMEDY OF", "THE HISTORY OF", "THE WINTER TALE OF", "THE LAMENT OF"];

        static readonly string[] Settings =
        [
            "A hall in the castle.", "A garden.", "The gate of the city.", "A road by the river.", "The court.",
            "A field near the camp.", "A room in the tower.", "The harbour.", "A forest.", "The market place.",
        ];

        static readonly string[] Romans = ["I", "II", "III", "IV", "V"];

        string[] cast = [];
        string[] onStage = [];
        string speaker = "";
        string listener = "";

        /// <summary>One play: a title, a cast, two or three acts of two or three scenes each.</summary>
        public void Play(StringBuilder text)
        {
            cast = Shuffle(Names.Concat(Roles).ToArray()).Take(4 + rng.Below(4)).ToArray();
            text.Append(rng.Pick(Genres)).Append(' ').Append(Title(cast[0])).Append("\n\n");
            var acts = 2 + rng.Below(2);
            for (var act = 0; act < acts; act++)
            {
                var scenes = 2 + rng.Below(2);
                for (var scene = 0; scene < scenes; scene++)
                {
                    text.Append("ACT ").Append(Romans[act]).Append(". SCENE ").Append(Romans[scene]).Append(". ")
                        .Append(rng.Pick(Settings)).Append("\n\n");
                    Scene(text);
                }
            }
        }

        static string Title(string name) => name.Contains(' ') ? "THE " + name : name;

        void Scene(StringBuilder text)
        {
            onStage = Shuffle(cast.ToArray()).Take(2 + rng.Below(3)).ToArray();
            text.Append("Enter ").Append(JoinNames(onStage.Select(Title).ToArray())).Append(".\n\n");
            var speeches = 6 + rng.Below(10);
            speaker = rng.Pick(onStage);
            string? pending = null;
            var previous = "";
            for (var s = 0; s < speeches; s++)
            {
                // An answer is spoken to the one who asked; otherwise to anyone else on stage.
                listener = pending is not null ? previous : Other(speaker);
                text.Append(speaker).Append(":\n");
                var lines = new List<string>();
                if (pending is not null) lines.Add(Answer(pending));
                var more = 1 + rng.Below(pending is null ? 4 : 3);
                pending = null;
                for (var l = 0; l < more; l++)
                {
                    if (l == more - 1 && s < speeches - 1 && rng.Chance(35))
                    {
                        var kind = rng.Pick(QuestionKinds);
                        lines.Add(Question(ref kind));
                        pending = kind;
                    }
                    else lines.Add(Statement());
                }
                foreach (var line in lines) text.Append(line).Append('\n');
                text.Append('\n');
                previous = speaker;
                speaker = pending is not null || rng.Chance(70) ? listener : Other(speaker);
            }
            text.Append(onStage.Length > 2 && rng.Chance(50) ? "Exeunt.\n\n" : $"Exit {Title(speaker)}.\n\n");
        }

        string Other(string who)
        {
            var others = onStage.Where(n => n != who).ToArray();
            return rng.Pick(others);
        }

        static string JoinNames(string[] names) =>
            names.Length == 1 ? names[0] : string.Join(", ", names[..^1]) + " and " + names[^1];

        /// <summary>How a speaker names the one spoken to: "good Briony", "my lord".</summary>
        string Address()
        {
            if (listener.Contains(' ') || Array.IndexOf(Roles, listener) >= 0)
                return rng.Pick(["my lord", "good " + listener.ToLowerInvariant(), "sir", "my friend"]);
            var name = Capitalised(listener);
            return rng.Pick([name, "good " + name, "sweet " + name, "my " + name]);
        }

        static string Capitalised(string name) => name[..1] + name[1..].ToLowerInvariant();

        // ---- noun phrases and verbs, with agreement ----

        Phrase NounPhrase(bool allowPronoun = true)
        {
            var roll = rng.Below(10);
            if (allowPronoun && roll < 2)
                return rng.Pick<Phrase>([new("I", false, IsI: true), new("we", false), new("you", false), new("he", true), new("she", true), new("they", false)]);
            if (roll < 3) return new(Capitalised(rng.Pick(onStage.Length > 0 ? cast : Names)), true);
            var noun = rng.Pick(Nouns);
            var plural = !noun.Mass && rng.Chance(30);
            var adjective = rng.Chance(45) ? rng.Pick(Adjectives) + " " : "";
            var determiner = plural ? rng.Pick(["the ", "the ", "our ", "these ", "all the "])
                : rng.Pick(["the ", "the ", "my ", "our ", "your ", "this "]);
            return new(determiner + adjective + (plural ? noun.Many : noun.One), !plural);
        }

        string Object()
        {
            var noun = rng.Pick(Nouns);
            var adjective = rng.Chance(40) ? rng.Pick(Adjectives) + " " : "";
            if (noun.Mass) return rng.Pick(["the ", "our ", "your ", ""]) + adjective + noun.One;
            if (rng.Chance(25)) return rng.Pick(["the ", "your ", "their "]) + adjective + noun.Many;
            var article = adjective.Length > 0 ? Article(adjective) : Article(noun.One);
            return rng.Pick(["the ", "the ", "my ", "his ", "her ", article]) + adjective + noun.One;
        }

        static string Article(string word) => "aeiou".Contains(word[0]) ? "an " : "a ";

        string Place() => rng.Pick(Prepositions) + " " + rng.Pick(Places);

        string Present(Phrase subject, Verb verb) => subject.Singular && !subject.IsI ? verb.Third : verb.Base;

        string Be(Phrase subject) => subject.IsI ? "am" : subject.Singular ? "is" : "are";

        string Have(Phrase subject) => subject.Singular && !subject.IsI ? "hath" : "have";

        string Predicate(Phrase subject)
        {
            var verb = rng.Pick(Verbs);
            var complement = verb.Transitive ? " " + Object() : rng.Chance(60) ? " " + Place() : "";
            return rng.Below(5) switch
            {
                0 => Present(subject, verb) + complement,
                1 => verb.Past + complement,
                2 => rng.Pick(["shall ", "will ", "must ", "would ", "may "]) + verb.Base + complement,
                3 => Have(subject) + " " + verb.Participle + complement,
                _ => Be(subject) + " " + (rng.Chance(30) ? rng.Pick(["not ", "too ", "most ", "so "]) : "") + rng.Pick(Adjectives),
            };
        }

        // ---- lines ----

        string Clause()
        {
            var subject = NounPhrase();
            return subject.Text + " " + Predicate(subject);
        }

        string Statement() => Sentence(rng.Below(12) switch
        {
            0 => Clause() + ", and " + Clause() + ".",
            1 => Clause() + ", but " + Clause() + ".",
            2 => "If " + Clause() + ", " + Clause() + ".",
            3 => Address() + ", " + Clause() + ".",
            4 => rng.Pick(["O ", "Alas, ", "Fie, ", "Behold, "]) + rng.Pick(Adjectives) + " " + rng.Pick(Nouns).One + "!",
            5 => "Let us " + rng.Pick(Verbs.Where(v => !v.Transitive).ToArray()).Base + " " + (rng.Chance(50) ? Place() : rng.Pick(Times)) + ".",
            6 => rng.Pick(["Go, ", "Come, ", "Away, "]) + "and " + Imperative() + ".",
            7 => Clause() + " " + rng.Pick(Times) + ".",
            8 => Clause() + " " + Place() + ".",
            9 => "I " + rng.Pick(["fear", "swear", "think", "know", "hope"]) + " that " + Clause() + ".",
            _ => Clause() + ".",
        });

        string Imperative()
        {
            var verb = rng.Pick(Verbs.Where(v => v.Transitive).ToArray());
            return verb.Base + " " + Object() + (rng.Chance(50) ? " " + Place() : "");
        }

        static readonly string[] QuestionKinds = ["where", "who", "shall", "news", "why"];

        // The question's subject is remembered so the next speaker's answer can refer back to it.
        string asked = "";

        string Question(ref string kind)
        {
            switch (kind)
            {
                case "where":
                    // Ask after someone who is not on stage, when the cast has such a one.
                    var named = cast.Where(n => !n.Contains(' ') && Array.IndexOf(Roles, n) < 0).ToArray();
                    var absent = named.Where(n => Array.IndexOf(onStage, n) < 0).ToArray();
                    var candidates = absent.Length > 0 ? absent : named.Where(n => n != speaker && n != listener).ToArray();
                    if (candidates.Length == 0)
                    {
                        kind = "news";
                        goto case "news";
                    }
                    asked = Capitalised(rng.Pick(candidates));
                    return Sentence(Address() + ", where is " + asked + "?");
                case "who":
                    asked = Object();
                    return Sentence("Who hath " + rng.Pick(Verbs.Where(v => v.Transitive).ToArray()).Participle + " " + asked + "?");
                case "shall":
                    asked = rng.Pick(Verbs.Where(v => v.Transitive).ToArray()).Base + " " + Object();
                    return Sentence("Shall we " + asked + "?");
                case "news":
                    asked = rng.Pick(Lands);
                    return Sentence("What news from " + asked + ", " + Address() + "?");
                default:
                    var subject = NounPhrase(allowPronoun: false);
                    var verb = rng.Pick(Verbs.Where(v => !v.Transitive).ToArray());
                    asked = subject.Text;
                    return Sentence("Why " + (subject.Singular ? "does " : "do ") + subject.Text + " " + verb.Base + "?");
            }
        }

        string Answer(string kind) => Sentence(kind switch
        {
            "where" => rng.Chance(80)
                ? asked + " " + rng.Pick(["waits", "sleeps", "lingers", "prays", "sings"]) + " " + Place() + ", " + Address() + "."
                : "I know not where " + asked + " is.",
            "who" => rng.Chance(70)
                ? Capitalised(rng.Pick(cast)) + " hath taken " + Pronoun(asked) + "."
                : "No one, " + Address() + "; " + Pronoun(asked) + " " + (IsPlural(asked) ? "are" : "is") + " " + Place() + ".",
            "shall" => rng.Chance(60)
                ? "Ay, let us " + asked + " " + rng.Pick(Times) + "."
                : "Nay, " + Address() + ", we must wait.",
            "news" => "From " + asked + "? " + Sentence(Clause()) + ".",
            _ => "Because " + Clause() + ".",
        });

        static bool IsPlural(string objectPhrase) =>
            Nouns.Any(n => !n.Mass && objectPhrase.EndsWith(" " + n.Many, StringComparison.Ordinal));

        static string Pronoun(string objectPhrase) => IsPlural(objectPhrase) ? "they" : "it";

        static string Sentence(string s) => char.ToUpperInvariant(s[0]) + s[1..];

        T[] Shuffle<T>(T[] items)
        {
            for (var i = items.Length - 1; i > 0; i--)
            {
                var j = rng.Below(i + 1);
                (items[i], items[j]) = (items[j], items[i]);
            }
            return items;
        }
    }
}
