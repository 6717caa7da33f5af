using TorchSharp;

namespace Microsoft.ML.BlockSparse.Torch;

/// <summary>
/// The only way this library makes TorchSharp <see cref="Scalar"/>s, so none can be freed while
/// native code still reads it.
/// </summary>
/// <remarks>
/// A <see cref="Scalar"/> owns a native object and frees it in its finaliser. TorchSharp methods
/// pass <c>scalar.Handle</c> to native code and do not keep the managed object alive during the call,
/// so a temporary, such as the one C# creates for <c>t.clamp_min_(0)</c> through the implicit
/// conversion, can be finalised by a garbage collection on another thread while libtorch is reading
/// it: the call then fails at random ("Expected false to be true ... toDouble") or reads garbage.
/// Some TorchSharp overloads make such a temporary themselves (<c>add(Tensor)</c> passes an implicit
/// <c>alpha = 1</c>, <c>square()</c> an implicit exponent 2), so they are avoided too. The rule, which
/// <c>NativeLifetimeTests</c> checks in the IL of every assembly of the repository:
/// <list type="bullet">
/// <item>constants come from the static fields here, which are never collected;</item>
/// <item>a value computed at run time comes from <see cref="Of(double)"/> into a <c>using</c> variable,
/// whose <c>Dispose</c> after the call keeps it alive until then.</item>
/// </list>
/// </remarks>
internal static class Scalars
{
    /// <summary>Integer constants: an integer <see cref="Scalar"/> works for floating and integer tensors alike.</summary>
    public static readonly Scalar Zero = 0.ToScalar(), One = 1.ToScalar(), Two = 2.ToScalar(), MinusOne = (-1).ToScalar();

    /// <summary>A scalar for a value computed at run time. Declare it with <c>using</c>: disposing it after the call is what keeps it alive during the call.</summary>
    public static Scalar Of(double value) => value.ToScalar();

    /// <inheritdoc cref="Of(double)"/>
    public static Scalar Of(long value) => value.ToScalar();
}
