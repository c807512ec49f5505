using PktFlow.Bpf;

namespace PktFlow.Tests.Bpf;

/// <summary>The model's hash map state: LRU eviction and listing order.</summary>
public class BpfMapTests
{
    private static byte[] K(uint k) => BitConverter.GetBytes(k);

    private static uint[] Keys(BpfMapState m) => m.Entries().Select(e => BitConverter.ToUInt32(e.Key)).ToArray();

    [Fact]
    public void AFullLruHashEvictsTheOldestInsertion()
    {
        var m = new BpfMapState(new BpfMapDef("lru", BpfMapType.LruHash, 4, 4, 3));
        foreach (uint k in new uint[] { 1, 2, 3 }) Assert.Equal(0, m.Update(K(k), K(k), 0));
        Assert.Equal(0, m.Delete(K(2)));
        // a deleted slot is reused by the next insertion: the listing keeps insertion order all the same
        Assert.Equal(0, m.Update(K(4), K(4), 0));
        Assert.Equal(0, m.Update(K(5), K(5), 0)); // full: 1 goes
        Assert.Equal(0, m.Update(K(6), K(6), 0)); // full: 3 goes, not 5 (the insertion just before)
        Assert.Equal(new uint[] { 4, 5, 6 }, Keys(m));
        Assert.Null(m.Lookup(K(1)));
        Assert.Null(m.Lookup(K(3)));
    }

    [Fact]
    public void AFullPlainHashRefusesANewKey()
    {
        var m = new BpfMapState(new BpfMapDef("h", BpfMapType.Hash, 4, 4, 1));
        Assert.Equal(0, m.Update(K(1), K(1), 0));
        Assert.Equal(-7, m.Update(K(2), K(2), 0)); // E2BIG
        Assert.Equal(new uint[] { 1 }, Keys(m));
    }
}
