using System.Reflection;
using System.Reflection.Emit;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// No native TorchSharp object can be finalised while native code uses it: the rule of
/// <see cref="Scalars"/>, checked in the IL of the library, the sample and these tests.
/// </summary>
public class NativeLifetimeTests
{
    private static readonly Assembly TorchSharpAssembly = typeof(Scalar).Assembly;

    private static readonly Assembly[] Checked =
        [typeof(BlockSparseTrainer).Assembly, typeof(Samples.OutputFile).Assembly, typeof(NativeLifetimeTests).Assembly];

    [Fact]
    public void NoCodeHandsATemporaryScalarToTorchSharp()
    {
        var problems = new SortedSet<string>(StringComparer.Ordinal);
        var scalarMakers = new Dictionary<MethodBase, bool>();
        foreach (var method in Checked.SelectMany(IlCalls.Methods).Where(m => m.DeclaringType != typeof(Forbidden)))
        {
            bool disposes = IlCalls.Calls(method).Any(c => c.Callee.Name == nameof(IDisposable.Dispose));
            foreach (var (callee, next) in IlCalls.Calls(method))
            {
                string where = $"{method.DeclaringType?.FullName}.{method.Name}";
                if (IsImplicitScalar(callee))
                    problems.Add($"{where} converts a number to a Scalar implicitly: pass a Scalars constant, or a 'using' Scalars.Of(value)");
                else if (IsToScalar(callee) && method.DeclaringType != typeof(Scalars))
                    problems.Add($"{where} calls {callee.Name}: make Scalars with Scalars.Of, declared with 'using'");
                else if (callee.DeclaringType == typeof(Scalars) && callee.Name == nameof(Scalars.Of)
                    && !(next == OpCodes.Stsfld || IsStoreToLocal(next) && disposes))
                    problems.Add($"{where} uses Scalars.Of without keeping it: store it in a 'using' variable or a static field");
                else if (callee.DeclaringType == typeof(torch.Tensor) && callee.Name == nameof(torch.Tensor.zero_))
                    problems.Add($"{where} calls Tensor.zero_(), which in TorchSharp 0.107 returns a new handle each call (left to the finaliser): use fill_(Scalars.Zero)");
                else if (callee.DeclaringType?.Assembly == TorchSharpAssembly && MakesScalars(callee, scalarMakers))
                    problems.Add($"{where} calls TorchSharp's {callee.DeclaringType.Name}.{callee}, which hands a temporary Scalar to native code: use the overload that takes every Scalar");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheRuleFindsTheCallsItForbids()
    {
        // The check above is only as good as its IL reading: it must see the pattern that crashed.
        var calls = IlCalls.Calls(typeof(Forbidden).GetMethod(nameof(Forbidden.ClampAtZero))!).Select(c => c.Callee).ToList();
        Assert.Contains(calls, IsImplicitScalar);
        var square = typeof(torch.Tensor).GetMethod(nameof(torch.Tensor.square), Type.EmptyTypes)!;
        Assert.True(MakesScalars(square, new Dictionary<MethodBase, bool>()), "Tensor.square() passes an implicit exponent 2");
        Assert.Contains(IlCalls.Calls(typeof(Forbidden).GetMethod(nameof(Forbidden.Zero))!), c => c.Callee.Name == nameof(torch.Tensor.zero_));
        var pow = typeof(torch.Tensor).GetMethod(nameof(torch.Tensor.pow), [typeof(Scalar)])!;
        Assert.False(MakesScalars(pow, new Dictionary<MethodBase, bool>()), "Tensor.pow(Scalar) makes no Scalar of its own");
    }

    private static bool IsImplicitScalar(MethodBase m) => m.DeclaringType == typeof(Scalar) && m.Name == "op_Implicit";

    private static bool IsToScalar(MethodBase m)
        => m.DeclaringType == typeof(ScalarExtensionMethods) && m.Name.StartsWith("To", StringComparison.Ordinal) && m.Name.EndsWith("Scalar", StringComparison.Ordinal);

    private static bool IsStoreToLocal(OpCode op)
        => op == OpCodes.Stloc || op == OpCodes.Stloc_S || op == OpCodes.Stloc_0 || op == OpCodes.Stloc_1 || op == OpCodes.Stloc_2 || op == OpCodes.Stloc_3
            // a 'using' variable captured by a lambda lives in a closure field
            || op == OpCodes.Stfld;

    /// <summary>Whether a TorchSharp method, or any TorchSharp method it calls, converts to a Scalar.</summary>
    private static bool MakesScalars(MethodBase method, Dictionary<MethodBase, bool> known)
    {
        if (known.TryGetValue(method, out var result))
            return result;
        known[method] = false;   // cycles: assume not while the walk is under way
        result = IlCalls.Calls(method).Any(c => IsImplicitScalar(c.Callee) || IsToScalar(c.Callee)
            || c.Callee.DeclaringType?.Assembly == TorchSharpAssembly && MakesScalars(c.Callee, known));
        known[method] = result;
        return result;
    }

    private static class Forbidden
    {
        // Never called: the IL of the call that failed in CI, for the test above.
        public static torch.Tensor ClampAtZero(torch.Tensor t) => t.clamp_min_(0);

        public static torch.Tensor Zero(torch.Tensor t) => t.zero_();
    }
}
