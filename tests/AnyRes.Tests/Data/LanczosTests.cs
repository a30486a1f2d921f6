using AnyRes.Data;

namespace AnyRes.Tests.Data;

public class LanczosTests
{
    // Recorded once with PIL 9.4 (Debian 12): Image.fromarray(pattern).resize(size, Image.LANCZOS[, box]).tobytes().hex().
    const string Pil5x4 = "6a7d8d7f8b957c7d82727b8e7a95797b94798f86798e887d8185748b858b73808a7d7b7e897f7e7d7d75895c909e698a917f7c6c8288868983797c98";
    const string Pil9x6Box = "6d58ba66be89bd859886976e92717d7b764d6f58bb67c283c27b95bb7d6c8d837a997d8d86976ba077817a828a7c9f74b5675a6677b65c899b74a2399662767b8f6eb48f9b52bc53645e7a89a846b6546798815f4095a589478d7d9d61be5aa9725e55968b86a634885586b95e86b6c86eb399707259a25c4262aea794764cb6746973bcaf346ed27a569b4b9983b961599b64757fb9b35594909c6c62ac58628ab9";

    [Fact]
    public void DownsamplingMatchesPil()
    {
        var result = Lanczos.Resize(TestData.Pattern(), 5, 4);
        Assert.Equal(TestData.Hex(Pil5x4), result.Pixels);
    }

    [Fact]
    public void FractionalBoxMatchesPil()
    {
        // PIL box (1.5, 2.25, 12.0, 10.5) → 9×6.
        var result = Lanczos.ResizeWindow(TestData.Pattern(), 1.5, 2.25, 10.5, 8.25, 9, 6, 0, 0, 9, 6);
        Assert.Equal(TestData.Hex(Pil9x6Box), result.Pixels);
    }

    [Fact]
    public void WindowEqualsCropOfTheFullResize()
    {
        var src = TestData.Pattern(97, 83);
        var full = Lanczos.Resize(src, 61, 61);
        var window = Lanczos.ResizeWindow(src, 0, 0, 97, 83, 61, 61, 17, 9, 20, 30);
        Assert.Equal(full.Crop(17, 9, 20, 30).Pixels, window.Pixels);
    }

    [Theory]
    [InlineData(40, 30, 7, 5)]
    [InlineData(7, 5, 40, 30)]
    public void ConstantImageStaysConstant(int w, int h, int ow, int oh)
    {
        var src = new RgbImage(w, h);
        for (int i = 0; i < src.Pixels.Length; i += 3) (src.Pixels[i], src.Pixels[i + 1], src.Pixels[i + 2]) = (200, 17, 99);
        var result = Lanczos.Resize(src, ow, oh);
        for (int i = 0; i < result.Pixels.Length; i += 3)
            Assert.Equal(new byte[] { 200, 17, 99 }, result.Pixels[i..(i + 3)]);
    }

    [Fact]
    public void SameSizeIsIdentity()
    {
        var src = TestData.Pattern(31, 17);
        Assert.Equal(src.Pixels, Lanczos.Resize(src, 31, 17).Pixels);
    }

    [Fact]
    public void LinearRampStaysLinearAwayFromTheBorders()
    {
        // A normalised symmetric kernel reproduces linear functions: output pixel i (centre (i + 0.5)·scale in source units)
        // gets the ramp's value there, 2·((i + 0.5)·scale − 0.5), to within the 8-bit rounding.
        int w = 120, ow = 37;
        var ramp = new RgbImage(w, 1);
        for (int x = 0; x < w; x++) ramp.Pixels[3 * x] = (byte)(2 * x);
        var result = Lanczos.Resize(ramp, ow, 1);
        double scale = (double)w / ow;
        for (int i = 4; i < ow - 4; i++)
        {
            double centre = (i + 0.5) * scale - 0.5;
            Assert.InRange(result.Pixels[3 * i], 2 * centre - 1, 2 * centre + 1);
        }
    }
}
