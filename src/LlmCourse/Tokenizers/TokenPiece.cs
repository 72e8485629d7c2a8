namespace LlmCourse.Tokenizers;

/// <summary>
/// One token of an encoded text, for showing token boundaries: its id, where its bytes sit in the
/// text's UTF-8 (a token may end in the middle of a character: an emoji is often two tokens), and its
/// bytes as a reader can see them.
/// </summary>
public readonly record struct TokenPiece(int Id, int ByteStart, int ByteLength, string Text, bool IsSpecial = false);
