using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse.MLNet;

/// <summary>
/// Checks the label and feature columns, both on a <see cref="SchemaShape"/> (pipeline validation,
/// before any data is read) and on a real schema (at <c>Fit</c>), with messages that name the
/// column, what it is, and what was expected.
/// </summary>
internal static class InputSchemaCheck
{
    public static void Check(SchemaShape schema, string labelColumnName, string featureColumnName)
    {
        var label = Find(schema, labelColumnName, "label");
        if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw LabelNotKey(labelColumnName, Describe(label));
        if (label.ItemType.RawType != typeof(uint))
            throw LabelKeyNotUInt32(labelColumnName, label.ItemType.RawType);

        var features = Find(schema, featureColumnName, "feature");
        if (EncodedImageInput.IsEncodedImages(features))
            return;
        if (features.Kind != SchemaShape.Column.VectorKind.Vector || features.ItemType != NumberDataViewType.Single)
            throw FeaturesNotVector(featureColumnName, Describe(features));
    }

    /// <summary>Checks the real schema; returns the label column, its class count and the feature length.</summary>
    public static (DataViewSchema.Column Label, DataViewSchema.Column Features, int Classes, int FeatureLength) Check(
        DataViewSchema schema, string labelColumnName, string featureColumnName)
    {
        var label = schema.GetColumnOrNull(labelColumnName) ?? throw Missing(schema, labelColumnName, "label");
        if (label.Type is not KeyDataViewType key)
            throw LabelNotKey(labelColumnName, Describe(label.Type));
        if (key.RawType != typeof(uint))
            throw LabelKeyNotUInt32(labelColumnName, key.RawType);
        if (key.Count < 2 || key.Count > int.MaxValue)
            throw new ArgumentOutOfRangeException("inputSchema",
                $"Label column '{labelColumnName}' has {key.Count} classes; multiclass classification needs at least 2 (is the column of a single value?).");

        var features = schema.GetColumnOrNull(featureColumnName) ?? throw Missing(schema, featureColumnName, "feature");
        if (features.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || !vector.IsKnownSize)
            throw FeaturesNotVector(featureColumnName, Describe(features.Type));
        return (label, features, (int)key.Count, vector.Size);
    }

    private static SchemaShape.Column Find(SchemaShape schema, string name, string role)
    {
        foreach (var column in schema)
        {
            if (column.Name == name)
                return column;
        }
        throw new ArgumentOutOfRangeException("inputSchema",
            $"The {role} column '{name}' is not in the input. Columns present: {string.Join(", ", schema.Select(c => $"'{c.Name}'"))}.");
    }

    // The same wording ML.NET uses for types: "Single", "Key<UInt32>", "Vector<Single>" (known size)
    // and "VarVector<Single>" (variable size).
    private static string Describe(SchemaShape.Column column)
    {
        var item = column.IsKey ? $"Key<{column.ItemType.RawType.Name}>" : column.ItemType.ToString() ?? "?";
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => item,
            SchemaShape.Column.VectorKind.Vector => $"Vector<{item}>",
            _ => $"VarVector<{item}> (a vector of variable size)",
        };
    }

    private static string Describe(DataViewType type) => type switch
    {
        VectorDataViewType { IsKnownSize: false } v => $"VarVector<{v.ItemType}> (a vector of variable size)",
        VectorDataViewType v => $"Vector<{v.ItemType}, {v.Size}>",
        _ => type.ToString() ?? type.RawType.Name,
    };

    private static ArgumentOutOfRangeException Missing(DataViewSchema schema, string name, string role)
        => new("inputSchema",
            $"The {role} column '{name}' is not in the input. Columns present: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"))}.");

    private static ArgumentOutOfRangeException LabelNotKey(string name, string actual)
        => new("inputSchema",
            $"Label column '{name}' must be a key type (it is {actual}). Convert it first with "
            + $"mlContext.Transforms.Conversion.MapValueToKey(\"{name}\").");

    private static ArgumentOutOfRangeException LabelKeyNotUInt32(string name, Type rawType)
        => new("inputSchema",
            $"Label column '{name}' is a key of {rawType.Name}; BlockSparse needs keys of UInt32, "
            + $"which mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") produces.");

    private static ArgumentOutOfRangeException FeaturesNotVector(string name, string actual)
        => new("inputSchema",
            $"Feature column '{name}' must be a vector of Single (float) of known size, or of encoded image bytes (it is {actual}). "
            + "Use Concatenate, ExtractPixels or ConvertType to produce one, or give the image files' bytes (LoadRawImageBytes).");
}
