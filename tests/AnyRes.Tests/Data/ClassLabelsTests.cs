using System.IO.Compression;
using AnyRes.Core;
using AnyRes.Data;

namespace AnyRes.Tests.Data;

/// <summary>Labels of conditional data: dataset.json (folder or zip), class folders, every mismatch in one line, and batches that keep each image's class.</summary>
public class ClassLabelsTests
{
    /// <summary>A solid 40×40 PNG: class 0 red, class 1 blue, so a batch's pixels tell which image (class) they came from.</summary>
    static byte[] Solid(int k)
    {
        var image = new RgbImage(40, 40);
        for (int i = 0; i < 40 * 40; i++) image.Pixels[3 * i + (k == 0 ? 0 : 2)] = 255;
        return SynthImages.EncodePng(image);
    }

    static void Write(TempDir dir, string relative, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(dir[relative])!);
        File.WriteAllBytes(dir[relative], bytes);
    }

    static ClassLabels Read(string path)
    {
        using var source = ImageSource.Open(path, useCache: false);
        return ClassLabels.Read(source);
    }

    static string Error(string path)
    {
        var e = Assert.Throws<AnyResException>(() => Read(path));
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Fact]
    public void Class_folders_sort_by_name_and_label_their_images()
    {
        using var dir = new TempDir();
        Write(dir, "zebra/a.png", Solid(1));
        Write(dir, "ant/b.png", Solid(0));
        Write(dir, "ant/sub/c.png", Solid(0));
        File.WriteAllText(dir["README.txt"], "not an image");
        var labels = Read(dir.Path);
        Assert.Equal(["ant", "zebra"], labels.Names);
        Assert.Equal((0, 0, 1), (labels.Of("ant/b.png"), labels.Of("ant/sub/c.png"), labels.Of("zebra/a.png")));
    }

    [Fact]
    public void Dataset_json_in_a_folder_and_in_a_zip()
    {
        using var dir = new TempDir();
        Write(dir, "img/0.png", Solid(0));
        Write(dir, "img/1.png", Solid(1));
        Write(dir, "img/2.png", Solid(1));
        const string json = """{"labels": [["img/0.png", 0], ["img/1.png", 1], ["img/2.png", 1]], "classes": ["cats", "dogs"]}""";
        File.WriteAllText(dir["dataset.json"], json);
        var labels = Read(dir.Path);
        Assert.Equal(["cats", "dogs"], labels.Names);
        Assert.Equal((0, 1, 1), (labels.Of("img/0.png"), labels.Of("img/1.png"), labels.Of("img/2.png")));

        var zip = dir["set.zip"];
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            foreach (var name in new[] { "img/0.png", "img/1.png", "img/2.png" }) archive.CreateEntryFromFile(dir[name], name);
            using var writer = new StreamWriter(archive.CreateEntry("dataset.json").Open());
            writer.Write(json.Replace(", \"classes\": [\"cats\", \"dogs\"]", ""));   // the official form: indices only
        }
        var zipped = Read(zip);
        Assert.Equal(["0", "1"], zipped.Names);
        Assert.Equal(1, zipped.Of("img/2.png"));
    }

    [Fact]
    public void Every_mismatch_is_one_line_naming_the_files_and_classes()
    {
        using var dir = new TempDir();
        Write(dir, "a.png", Solid(0));
        Write(dir, "b.png", Solid(1));
        File.WriteAllText(dir["dataset.json"], """{"labels": [["a.png", 0], ["gone.png", 1]]}""");
        var e = Error(dir.Path);
        Assert.Contains("1 labels for missing files: gone.png", e);
        Assert.Contains("1 images without a label: b.png", e);

        File.WriteAllText(dir["dataset.json"], """{"labels": [["a.png", 0], ["b.png", 2]], "classes": ["x", "y"]}""");
        Assert.Contains("class indices out of range 0..1: b.png -> 2", Error(dir.Path));
        File.WriteAllText(dir["dataset.json"], """{"labels": [["a.png", 0], ["b.png", -1]]}""");
        Assert.Contains("b.png -> -1", Error(dir.Path));
        File.WriteAllText(dir["dataset.json"], """{"labels": [["a.png", 0], ["b.png", 2]]}""");
        Assert.Contains("1 class without usable images: 1 '1'", Error(dir.Path));
        File.WriteAllText(dir["dataset.json"], """{"labels": [["a.png", "cat"]]}""");
        Assert.Contains("is not [\"path\", class index]", Error(dir.Path));

        using var folders = new TempDir();
        Write(folders, "birds/a.png", Solid(0));
        Write(folders, "loose.png", Solid(0));
        Assert.Contains("images outside a class folder (DATA/<class>/...): loose.png", Error(folders.Path));
        File.Delete(folders["loose.png"]);
        Directory.CreateDirectory(folders["fish"]);
        Assert.Contains("1 class without usable images: 1 'fish'", Error(folders.Path));
    }

    [Fact]
    public void Batches_keep_each_images_class_in_lr_and_patch_batches()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 6; i++) Write(dir, $"{(i % 3 == 0 ? "red" : "blue")}/{i}.png", Solid(i % 3 == 0 ? 0 : 1));
        using var source = ImageSource.Open(dir.Path, useCache: false);
        var labels = ClassLabels.Read(source);
        Assert.Equal(["blue", "red"], labels.Names);
        var lr = new LowResDataset(source, new LowResDatasetOptions { Size = 16, XFlip = true }, _ => { }, labels);
        var hr = new PatchDataset(source, new PatchDatasetOptions { Size = 16, ScaleMax = 0.5 }, _ => { }, labels);
        using var loader = new BatchLoader(lr, hr, new LoaderOptions { BatchSize = 5, BaseProbability = 0.5, Seed = 3, Workers = 1 });
        Assert.Equal(12, loader.ItemLabels().Length);   // mirrored copies keep their class
        Assert.Equal(4, loader.ItemLabels().Count(k => k == 1));
        var kinds = new HashSet<bool>();
        for (int step = 0; step < 8; step++)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var batch = loader.Next();
            kinds.Add(batch.IsPatchBatch);
            var red = batch.Images[.., 0].mean([1, 2]).gt(0).to(TorchSharp.torch.int64);   // red images: channel 0 at +1, blue at −1
            var classes = batch.Labels!.argmax(1);
            Assert.Equal(new long[] { 5, 2 }, batch.Labels.shape);
            Assert.True(classes.eq(red).all().item<bool>(), $"step {step}: labels {string.Join(",", classes.data<long>().ToArray())} vs red {string.Join(",", red.data<long>().ToArray())}");
        }
        Assert.Equal(2, kinds.Count);
    }

    [Fact]
    public void Class_balanced_sampling_draws_every_class_equally_often()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 7; i++) Write(dir, $"{(i == 0 ? "red" : "blue")}/{i}.png", Solid(i == 0 ? 0 : 1));   // 1 red, 6 blue
        using var source = ImageSource.Open(dir.Path, useCache: false);
        var lr = new LowResDataset(source, new LowResDatasetOptions { Size = 16 }, _ => { }, ClassLabels.Read(source));
        using var loader = new BatchLoader(lr, null, new LoaderOptions { BatchSize = 4, Seed = 1, Workers = 1, ClassBalanced = true });
        Assert.Equal([0L, 1L], loader.ItemLabels());   // fakes: uniform over the classes
        for (int step = 0; step < 6; step++)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var batch = loader.Next();
            Assert.Equal(2, batch.Labels!.argmax(1).eq(1).sum().item<long>());   // 2 of each class in every batch of 4
            var red = batch.Images[.., 0].mean([1, 2]).gt(0);
            Assert.True(red.eq(batch.Labels.argmax(1).eq(1)).all().item<bool>());   // still the image's own class
        }
        var unbalanced = new LowResDataset(source, new LowResDatasetOptions { Size = 16 }, _ => { });
        Assert.Throws<AnyResException>(() => new BatchLoader(unbalanced, null, new LoaderOptions { BatchSize = 4, ClassBalanced = true }));
    }

    [Fact]
    public void Synth_classes_write_a_folder_per_class_with_different_content()
    {
        using var dir = new TempDir();
        SynthImages.WriteSet(dir.Path, 8, 48, 64, 5, classes: 2);
        var labels = Read(dir.Path);
        Assert.Equal([SynthImages.ClassName(0), SynthImages.ClassName(1)], labels.Names);
        Assert.Equal("00-earth-discs", labels.Names[0]);
        using var source = ImageSource.Open(dir.Path, useCache: false);
        Assert.Equal(4, source.Images.Count(i => labels.Of(i.Path) == 1));
        // Mean colour per class (palettes earth and fire): far apart.
        double[] Mean(int k)
        {
            var sum = new double[3];
            long n = 0;
            foreach (var image in source.Images.Where(i => labels.Of(i.Path) == k))
            {
                var px = source.Decode(image).Image.Pixels;
                for (int i = 0; i < px.Length; i++) sum[i % 3] += px[i];
                n += px.Length / 3;
            }
            return sum.Select(s => s / n).ToArray();
        }
        var (a, b) = (Mean(0), Mean(1));
        double distance = a.Zip(b, (x, y) => Math.Abs(x - y)).Sum();
        Assert.True(distance > 60, $"class mean colours {string.Join(",", a.Select(v => v.ToString("0")))} vs {string.Join(",", b.Select(v => v.ToString("0")))}");
        Assert.Throws<AnyResException>(() => SynthImages.WriteSet(dir["x"], 1, 48, 64, 5, classes: 2));
    }
}
