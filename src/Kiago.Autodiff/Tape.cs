using Kiago.Kernels;

namespace Kiago.Autodiff;

/// <summary>
/// Reverse-mode autodiff over an <see cref="IBackend"/>. Ops (see TapeOps.cs) run immediately and, when a
/// gradient is wanted, record how to push it back. <see cref="Backward"/> walks the records in reverse.
/// <para>Memory: every buffer comes from a pool keyed by length and returns at <see cref="Reset"/>, so a loop of
/// identical steps (same batch, same graph) allocates no buffers after the first. From the second identical step
/// on, the tape also knows each activation's last reader and returns activations that backward does not need
/// (everything but ReLU outputs) to the pool right after that reader; intermediate gradients return as soon as
/// they have been pushed back.</para>
/// </summary>
public sealed partial class Tape : IDisposable
{
    readonly BufferPool<float> floats;
    readonly BufferPool<int> ints;
    readonly HashSet<DeviceBuffer<float>> outstandingFloats = new(ReferenceEqualityComparer.Instance);
    readonly HashSet<DeviceBuffer<int>> outstandingInts = new(ReferenceEqualityComparer.Instance);
    readonly List<Node> nodes = new();
    readonly List<Storage> storages = new();
    readonly List<Tensor> leaves = new();

    // Lifetime plan learned from the previous step: last op index reading each storage id, op signatures.
    List<int> plannedLastUse = new(), currentLastUse = new();
    List<int> plannedSignatures = new(), currentSignatures = new(), previousSignatures = new();
    bool planValid;
    int opIndex;

    public Tape(IBackend backend)
    {
        Backend = backend;
        floats = new BufferPool<float>(backend);
        ints = new BufferPool<int>(backend);
    }

    public IBackend Backend { get; }

    /// <summary>False = forward-only (prediction): nothing is recorded and no activation is kept for backward.</summary>
    public bool RecordGradients { get; set; } = true;

    /// <summary>Return dead activations to the pool as soon as their last reader has run (from the second identical step).</summary>
    public bool ReleaseEarly { get; set; } = true;

    /// <summary>Buffers the pool has ever allocated (flat after warm-up).</summary>
    public int PoolAllocations => floats.Allocations + ints.Allocations;

    /// <summary>Float elements the pool has ever allocated.</summary>
    public long PoolElements => floats.AllocatedElements;

    /// <summary>Wraps a caller-owned buffer (never pooled or released) as a leaf; ask for its gradient with <paramref name="requiresGrad"/>.</summary>
    public Tensor Leaf(DeviceBuffer<float> buffer, int[] shape, bool requiresGrad = false)
    {
        var tensor = new Tensor(new Storage(buffer, NextId(), pooled: false), (int[])shape.Clone(), requiresGrad && RecordGradients);
        if (tensor.Length > buffer.Length)
            throw new ShapeException($"Leaf: buffer holds {buffer.Length} elements, shape {tensor.ShapeText} needs {tensor.Length}");
        storages.Add(tensor.Storage);
        leaves.Add(tensor);
        return tensor;
    }

    /// <summary>Keeps a tensor's buffer valid until Reset even if a later op was its last reader.</summary>
    public Tensor Keep(Tensor tensor)
    {
        tensor.Storage.Kept = true;
        return tensor;
    }

    /// <summary>
    /// Seeds d(output) = <paramref name="seedScale"/> for every element (e.g. the gradient of Σ_b output_b),
    /// walks the recorded ops in reverse and leaves the gradient in <see cref="Tensor.Grad"/> of every leaf that
    /// asked for it (null when no path reached it). Gradients meeting at a tensor are summed.
    /// </summary>
    public void Backward(Tensor output, float seedScale = 1f) => Backward([(output, seedScale)]);

    /// <summary>
    /// One reverse walk for several outputs: seeds d(output_i) = seedScale_i everywhere (the gradient of
    /// Σ_i seedScale_i · Σ_b output_i[b]), so e.g. a mean and a spread computed from shared activations are
    /// differentiated together with the shared part walked once. The same tensor listed twice gets both seeds.
    /// </summary>
    public void Backward(params ReadOnlySpan<(Tensor Output, float SeedScale)> outputs)
    {
        if (outputs.IsEmpty) throw new ArgumentException("Backward: no output given", nameof(outputs));
        foreach (var (output, _) in outputs)
            if (!output.RequiresGrad)
                throw new InvalidOperationException($"Backward: output {output.ShapeText} does not depend on any leaf that requires a gradient");
        foreach (var (output, seedScale) in outputs)
        {
            var seed = RentFloat(output.Length);
            Backend.Fill(seed, seedScale, output.Length);
            Seed(output, seed);
        }
        Walk();
    }

    /// <summary>
    /// As <see cref="Backward(ReadOnlySpan{ValueTuple{Tensor, float}})"/> with a given d(output) per element
    /// (the caller's buffers, read and not kept): the vector-Jacobian product of several outputs in one walk.
    /// </summary>
    public void BackwardFrom(params ReadOnlySpan<(Tensor Output, DeviceBuffer<float> Seed)> outputs)
    {
        if (outputs.IsEmpty) throw new ArgumentException("BackwardFrom: no output given", nameof(outputs));
        foreach (var (output, given) in outputs)
        {
            if (!output.RequiresGrad)
                throw new InvalidOperationException($"BackwardFrom: output {output.ShapeText} does not depend on any leaf that requires a gradient");
            ShapeException.RequireLength("Tape.BackwardFrom", "seed", given, output.Length);
        }
        foreach (var (output, given) in outputs)
        {
            var seed = RentFloat(output.Length);
            Backend.Copy(given, seed, output.Length);
            Seed(output, seed);
        }
        Walk();
    }

    void Seed(Tensor output, DeviceBuffer<float> seed)
    {
        if (output.Grad is null) output.Grad = seed;
        else { Backend.Axpy(1f, seed, output.Grad, output.Length); ReleaseFloat(seed); }
    }

    void Walk()
    {
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            var node = nodes[i];
            var grad = node.Output.Grad;
            if (grad is null) continue;
            node.Backward(grad);
            if (!node.Output.GradAdopted) ReleaseFloat(grad);
            node.Output.Grad = null;
            node.Output.GradAdopted = false;
        }
    }

    /// <summary>Ends a step: every pooled buffer goes back to the pool; tensors of this step become invalid (leaves stay).</summary>
    public void Reset()
    {
        foreach (var buffer in outstandingFloats) floats.Return(buffer);
        foreach (var buffer in outstandingInts) ints.Return(buffer);
        outstandingFloats.Clear();
        outstandingInts.Clear();
        foreach (var storage in storages)
            if (storage.Pooled) storage.Buffer = null;
        foreach (var leaf in leaves) { leaf.Grad = null; leaf.GradAdopted = false; }
        storages.Clear();
        leaves.Clear();
        nodes.Clear();

        // Adopt this step's lifetimes only when two consecutive steps ran the same op sequence.
        bool repeated = currentSignatures.SequenceEqual(previousSignatures);
        (previousSignatures, currentSignatures) = (currentSignatures, previousSignatures);
        currentSignatures.Clear();
        if (repeated)
        {
            (plannedLastUse, currentLastUse) = (currentLastUse, plannedLastUse);
            plannedSignatures = new List<int>(previousSignatures);
        }
        else
        {
            plannedLastUse.Clear();
            plannedSignatures.Clear();
        }
        currentLastUse.Clear();
        planValid = ReleaseEarly && plannedSignatures.Count > 0;
        opIndex = 0;
    }

    public void Dispose()
    {
        floats.Dispose();
        ints.Dispose();
    }

    // ---- internals used by the ops --------------------------------------------------------------------------

    internal sealed class Node(Tensor output, Action<DeviceBuffer<float>> backward)
    {
        public Tensor Output { get; } = output;
        public Action<DeviceBuffer<float>> Backward { get; } = backward;
    }

    int NextId() => storages.Count;

    Tensor NewTensor(int[] shape, bool requiresGrad)
    {
        long length = 1;
        foreach (int d in shape) length *= d;
        var storage = new Storage(RentFloat(length), NextId(), pooled: true);
        storages.Add(storage);
        return new Tensor(storage, shape, requiresGrad && RecordGradients);
    }

    Tensor View(Tensor source, int[] shape) => new(source.Storage, shape, source.RequiresGrad);

    void Record(Tensor output, Action<DeviceBuffer<float>> backward) => nodes.Add(new Node(output, backward));

    internal DeviceBuffer<float> RentFloat(long length)
    {
        var buffer = floats.Rent(length);
        outstandingFloats.Add(buffer);
        return buffer;
    }

    internal void ReleaseFloat(DeviceBuffer<float> buffer)
    {
        if (outstandingFloats.Remove(buffer)) floats.Return(buffer);
    }

    DeviceBuffer<int> RentInt(long length)
    {
        var buffer = ints.Rent(length);
        outstandingInts.Add(buffer);
        return buffer;
    }

    /// <summary>Adds a freshly rented gradient into target.Grad (adopting the buffer when target has none yet).</summary>
    void PushOwned(Tensor target, DeviceBuffer<float> grad)
    {
        if (!target.RequiresGrad) { ReleaseFloat(grad); return; }
        if (target.Grad is null) { target.Grad = grad; return; }
        Backend.Axpy(1f, grad, target.Grad, target.Length);
        ReleaseFloat(grad);
    }

    /// <summary>Passes output's gradient unchanged to target (identity-like ops: views, residual adds).</summary>
    void PushThrough(Tensor target, Tensor output)
    {
        if (!target.RequiresGrad) return;
        var grad = output.Grad!;
        if (target.Grad is null && !output.GradAdopted)
        {
            target.Grad = grad;
            output.GradAdopted = true;
        }
        else if (target.Grad is null)
        {
            target.Grad = RentFloat(target.Length);
            Backend.Copy(grad, target.Grad, target.Length);
        }
        else Backend.Axpy(1f, grad, target.Grad, target.Length);
    }

    /// <summary>Bookkeeping after an op read its inputs: learn lifetimes, release inputs whose last reader this was.</summary>
    void AfterOp(string op, Tensor a, Tensor? b = null)
    {
        int signature = HashCode.Combine(op, a.Storage.Id, b?.Storage.Id ?? -1, a.Length);
        if (planValid && (opIndex >= plannedSignatures.Count || plannedSignatures[opIndex] != signature)) planValid = false;
        currentSignatures.Add(signature);
        MarkUse(a.Storage);
        if (b is not null) MarkUse(b.Storage);
        if (planValid)
        {
            TryRelease(a.Storage);
            if (b is not null) TryRelease(b.Storage);
        }
        opIndex++;
    }

    void MarkUse(Storage storage)
    {
        while (currentLastUse.Count <= storage.Id) currentLastUse.Add(-1);
        currentLastUse[storage.Id] = opIndex;
    }

    void TryRelease(Storage storage)
    {
        if (!storage.Pooled || storage.KeepForBackward || storage.Kept || storage.Buffer is null) return;
        if (storage.Id < plannedLastUse.Count && plannedLastUse[storage.Id] == opIndex)
        {
            ReleaseFloat(storage.Buffer);
            storage.Buffer = null;
        }
    }
}
