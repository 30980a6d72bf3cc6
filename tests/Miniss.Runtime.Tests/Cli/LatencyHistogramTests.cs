using System;
using Miniss.Cli;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Cli;

/// <summary>
/// The latency histogram of <c>miniss bench</c> and the networking benchmarks: percentiles of known distributions within
/// the bucket error (1/128 of the value), the maximum exact, histograms merged as if one had recorded everything, and no
/// allocation per value.
/// </summary>
[TestFixture]
public sealed class LatencyHistogramTests
{
    /// <summary>How far a reported percentile may be from the true one: half a bucket, a bucket being 1/64 of its lower bound.</summary>
    private const double RelativeError = 1.0 / 128;

    [Test]
    public void Values_below_128_are_counted_exactly()
    {
        var histogram = new LatencyHistogram();
        for (long value = 1; value <= 100; value++)
        {
            histogram.Record(value);
        }

        Assert.That(histogram.ValueAtPercentile(50), Is.EqualTo(50));
        Assert.That(histogram.ValueAtPercentile(90), Is.EqualTo(90));
        Assert.That(histogram.ValueAtPercentile(99), Is.EqualTo(99));
        Assert.That(histogram.ValueAtPercentile(100), Is.EqualTo(100));
        Assert.That(histogram.Count, Is.EqualTo(100));
    }

    [TestCase(1_000L)]
    [TestCase(100_000L)]
    [TestCase(10_000_000L)]
    public void Percentiles_of_a_uniform_distribution_are_within_the_bucket_error(long largest)
    {
        var histogram = new LatencyHistogram();
        const int Count = 100_000;
        for (int i = 1; i <= Count; i++)
        {
            histogram.Record(i * largest / Count);
        }

        foreach (double percentile in new[] { 50, 90, 99, 99.9 })
        {
            double exact = Math.Ceiling(percentile / 100 * Count) * largest / Count;
            Assert.That(histogram.ValueAtPercentile(percentile), Is.EqualTo(exact).Within(exact * RelativeError + 1), $"p{percentile}");
        }

        Assert.That(histogram.Max, Is.EqualTo(largest), "the maximum is exact");
    }

    [Test]
    public void Percentiles_of_a_long_tail_find_the_tail()
    {
        // 99% at 20 µs, 0.9% at 2 ms, 0.1% at 50 ms (in nanosecond ticks).
        var histogram = new LatencyHistogram();
        Record(histogram, 20_000, 99_000);
        Record(histogram, 2_000_000, 900);
        Record(histogram, 50_000_000, 100);

        Assert.That(histogram.ValueAtPercentile(50), Is.EqualTo(20_000).Within(20_000 * RelativeError));
        Assert.That(histogram.ValueAtPercentile(99), Is.EqualTo(20_000).Within(20_000 * RelativeError));
        Assert.That(histogram.ValueAtPercentile(99.5), Is.EqualTo(2_000_000).Within(2_000_000 * RelativeError));
        Assert.That(histogram.ValueAtPercentile(99.95), Is.EqualTo(50_000_000).Within(50_000_000 * RelativeError));
        Assert.That(histogram.ValueAtPercentile(100), Is.EqualTo(50_000_000), "never beyond the exact maximum");
    }

    [Test]
    public void Merged_histograms_report_what_one_histogram_of_every_value_reports()
    {
        var shards = new[] { new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram() };
        var whole = new LatencyHistogram();
        var random = new Random(7);
        for (int i = 0; i < 30_000; i++)
        {
            long value = (long)Math.Exp(random.NextDouble() * 20);   // 1 ns to about 0.5 s, log-uniform
            shards[i % 3].Record(value);
            whole.Record(value);
        }

        var merged = new LatencyHistogram();
        foreach (LatencyHistogram shard in shards)
        {
            merged.Add(shard);
        }

        Assert.That(merged.Count, Is.EqualTo(whole.Count));
        Assert.That(merged.Max, Is.EqualTo(whole.Max));
        foreach (double percentile in new[] { 0, 50, 90, 99, 99.9, 100 })
        {
            Assert.That(merged.ValueAtPercentile(percentile), Is.EqualTo(whole.ValueAtPercentile(percentile)), $"p{percentile}");
        }
    }

    [Test]
    public void Values_beyond_the_highest_bucket_count_in_the_last_with_the_maximum_exact()
    {
        var histogram = new LatencyHistogram();
        long top = 1L << LatencyHistogram.HighestExponent;
        histogram.Record(-5);   // a clock step backwards counts as 0
        histogram.Record(1L << 40);
        histogram.Record(1L << 50);

        Assert.That(histogram.ValueAtPercentile(0), Is.Zero);
        Assert.That(histogram.ValueAtPercentile(50), Is.LessThanOrEqualTo(top).And.GreaterThan(top - (top / 64)), "the last bucket");
        Assert.That(histogram.ValueAtPercentile(100), Is.EqualTo(1L << 50), "p100 is the exact maximum");
        Assert.That(histogram.Max, Is.EqualTo(1L << 50));
    }

    [Test]
    public void An_empty_histogram_has_no_summary()
    {
        var histogram = new LatencyHistogram();

        Assert.That(histogram.Summarize(), Is.Null);
        Assert.That(histogram.ValueAtPercentile(99), Is.EqualTo(-1));
    }

    [Test]
    public void Recording_allocates_nothing()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1);   // any first-call work done
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (long value = 0; value < 1_000_000; value += 7)
        {
            histogram.Record(value);
            histogram.RecordSince(System.Diagnostics.Stopwatch.GetTimestamp());
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static void Record(LatencyHistogram histogram, long value, int times)
    {
        for (int i = 0; i < times; i++)
        {
            histogram.Record(value);
        }
    }
}
