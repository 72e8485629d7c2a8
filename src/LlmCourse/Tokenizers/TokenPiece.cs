using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tokenizers;

/// <summary>
/// One token of an encoded text, for showing token boundaries: its id, where its bytes sit in the
/// text's UTF-8 (a token may end in the middle of a character: an emoji is often two tokens), and its
/// text: as it is when its bytes are whole UTF-8, else the bytes escaped (<c>\xF0\x9F</c>).
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public readonly record struct TokenPiece(int Id, int ByteStart, int ByteLength, string Text, bool IsSpecial = false);
