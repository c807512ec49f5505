using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace PktFlow.LoadBalancer;

/// <summary>
/// The Maglev lookup table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
/// Balancer", NSDI 2016, section 3.4, Pseudocode 1). Each backend has a permutation of the M slots,
/// offset = h1(name) mod M and skip = h2(name) mod (M-1) + 1, slot j = (offset + j*skip) mod M; the
/// backends take turns claiming their next free preferred slot until the table is full. M prime makes
/// every permutation visit every slot.
///
/// h1 and h2 are the first and second 64-bit big-endian words of SHA-256(UTF-8 backend name): two
/// independent, well-mixed hashes that are the same on every platform and run (the paper leaves the
/// hash open). Weights are turns per round (a backend of weight 2 claims two slots each round; weight 0
/// claims none), the way Katran extends the paper.
/// </summary>
public sealed class MaglevTable
{
    /// <summary>Index into the backend list given to the constructor, per slot.</summary>
    private readonly int[] _entry;

    public int Size => _entry.Length;

    public MaglevTable(IReadOnlyList<(string Name, int Weight)> backends, int size)
    {
        if (!IsPrime(size)) throw new ArgumentException($"Maglev table size {size} is not prime");
        _entry = new int[size];
        Array.Fill(_entry, -1);
        if (backends.All(b => b.Weight <= 0)) return;
        var offset = new long[backends.Count];
        var skip = new long[backends.Count];
        var next = new long[backends.Count];
        for (int i = 0; i < backends.Count; i++)
        {
            var (h1, h2) = NameHashes(backends[i].Name);
            offset[i] = (long)(h1 % (ulong)size);
            skip[i] = (long)(h2 % (ulong)(size - 1)) + 1;
        }
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < backends.Count; i++)
            {
                for (int turn = 0; turn < backends[i].Weight; turn++)
                {
                    long c;
                    do { c = (offset[i] + next[i] * skip[i]) % size; next[i]++; } while (_entry[c] >= 0);
                    _entry[c] = i;
                    if (++filled == size) return;
                }
            }
        }
    }

    /// <summary>The backend index for a flow hash, or -1 when every backend has weight 0.</summary>
    public int Lookup(ulong flowHash) => _entry[flowHash % (ulong)_entry.Length];

    /// <summary>How many slots each backend holds (for the evenness checks of the paper, section 5.3).</summary>
    public int[] SlotCounts(int backends)
    {
        var counts = new int[backends];
        foreach (var e in _entry) if (e >= 0) counts[e]++;
        return counts;
    }

    public static (ulong H1, ulong H2) NameHashes(string name)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), digest);
        return (BinaryPrimitives.ReadUInt64BigEndian(digest), BinaryPrimitives.ReadUInt64BigEndian(digest[8..]));
    }

    public static bool IsPrime(int n)
    {
        if (n < 2) return false;
        if (n % 2 == 0) return n == 2;
        for (int d = 3; (long)d * d <= n; d += 2) if (n % d == 0) return false;
        return true;
    }
}
