using System.Reflection;
using System.Reflection.Emit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// The calls in each method body, read from its IL: enough to check rules about which APIs code may
/// use, and how (see <see cref="NativeLifetimeTests"/>), without writing a Roslyn analyzer.
/// </summary>
internal static class IlCalls
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance
        | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>One call (call, callvirt, newobj or ldftn) and the instruction after it.</summary>
    public readonly record struct Call(MethodBase Callee, OpCode Next);

    /// <summary>Every method and constructor with a body in <paramref name="assembly"/>, nested and compiler-generated types included.</summary>
    public static IEnumerable<MethodBase> Methods(Assembly assembly)
        => assembly.GetTypes().SelectMany(t => t.GetMethods(Everything).Cast<MethodBase>().Concat(t.GetConstructors(Everything)))
            .Where(m => m.GetMethodBody() is not null);

    /// <summary>The calls <paramref name="method"/> makes, in IL order.</summary>
    public static IEnumerable<Call> Calls(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
            return [];
        var typeArgs = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var calls = new List<Call>();
        MethodBase? pending = null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            var op = OpCodesByValue[value];
            if (pending is not null)
            {
                calls.Add(new Call(pending, op));
                pending = null;
            }
            i += op.Size;
            if (op.OperandType == OperandType.InlineMethod)
                pending = Resolve(method.Module, BitConverter.ToInt32(il, i), typeArgs, methodArgs);
            i += OperandSize(op, il, i);
        }
        if (pending is not null)
            calls.Add(new Call(pending, OpCodes.Nop));
        return calls;
    }

    private static MethodBase? Resolve(Module module, int token, Type[]? typeArgs, Type[]? methodArgs)
    {
        try
        {
            return module.ResolveMethod(token, typeArgs, methodArgs);
        }
        catch (ArgumentException)
        {
            return null;   // a vararg or otherwise unresolvable reference: no rule is about those
        }
    }

    private static int OperandSize(OpCode op, byte[] il, int at) => op.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };
}
