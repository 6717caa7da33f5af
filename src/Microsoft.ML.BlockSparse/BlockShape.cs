using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.ML.BlockSparse;

/// <summary>
/// The shape of one block of a block-sparse weight matrix: <see cref="Rows"/> output features by
/// <see cref="Columns"/> input features (the <c>m × n</c> of the factor <c>B_i</c>).
/// </summary>
/// <param name="Rows">Block height <c>m</c>: how many output features one block spans.</param>
/// <param name="Columns">Block width <c>n</c>: how many input features one block spans.</param>
[JsonConverter(typeof(BlockShapeJsonConverter))]
public readonly record struct BlockShape(int Rows, int Columns)
{
    /// <summary>Whether a layer with these sizes can be tiled by blocks of this shape.</summary>
    public bool Divides(int inFeatures, int outFeatures)
        => Rows > 0 && Columns > 0 && outFeatures % Rows == 0 && inFeatures % Columns == 0;

    /// <summary>Parses <c>"MxN"</c> (also <c>"M×N"</c> or <c>"M*N"</c>), for example <c>"10x28"</c>.</summary>
    /// <exception cref="FormatException">The text is not two positive integers joined by x, × or *.</exception>
    public static BlockShape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().Split('x', 'X', '×', '*');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var rows)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var columns)
            && rows > 0 && columns > 0)
        {
            return new BlockShape(rows, columns);
        }
        throw new FormatException($"Block shape '{text}' is not valid: expected two positive integers as ROWSxCOLUMNS, for example '10x28'.");
    }

    /// <summary>Formats as <c>"MxN"</c>, the form <see cref="Parse"/> reads.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Rows}x{Columns}");
}

/// <summary>Writes and reads a <see cref="BlockShape"/> as its text, <c>"MxN"</c>, the form reports have always used.</summary>
internal sealed class BlockShapeJsonConverter : JsonConverter<BlockShape>
{
    public override BlockShape Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => BlockShape.Parse(reader.GetString() ?? throw new JsonException("A block shape is a string such as \"10x28\"."));

    public override void Write(Utf8JsonWriter writer, BlockShape value, JsonSerializerOptions options)
        => writer.WriteStringValue(value.ToString());
}
