using static TorchSharp.torch;

namespace AnyRes.Ops;

/// <summary>
/// Low-pass FIR design of StyleGAN3 (spec 13.3): scipy.signal.firwin with a Kaiser window, and the radially symmetric
/// jinc filter of the -R config. Computed in float64 and returned as float32, like the reference's buffers.
/// </summary>
public static class FilterDesign
{
    /// <summary>SynthesisLayer.design_lowpass_filter: null for one tap (identity), [numtaps] separable, or [numtaps, numtaps] radial.</summary>
    public static Tensor? DesignLowpass(int numtaps, double cutoff, double width, double fs, bool radial = false, Device? device = null)
    {
        if (numtaps < 1) throw new ArgumentOutOfRangeException(nameof(numtaps));
        if (numtaps == 1) return null;
        var taps = radial ? Jinc(numtaps, cutoff, width, fs) : Firwin(numtaps, cutoff, width, fs);
        var shape = radial ? new long[] { numtaps, numtaps } : new long[] { numtaps };
        return tensor(taps.Select(v => (float)v).ToArray(), shape, dtype: float32, device: device);
    }

    /// <summary>scipy.signal.firwin(numtaps, cutoff, width=width, fs=fs): low-pass, pass_zero, scaled to unit DC gain.</summary>
    public static double[] Firwin(int numtaps, double cutoff, double width, double fs)
    {
        double nyq = fs / 2, c = cutoff / nyq;
        var window = Kaiser(numtaps, KaiserBeta(KaiserAtten(numtaps, width / nyq)));
        double alpha = 0.5 * (numtaps - 1);
        var h = new double[numtaps];
        for (int n = 0; n < numtaps; n++) h[n] = c * Sinc(c * (n - alpha)) * window[n];
        double sum = h.Sum();
        for (int n = 0; n < numtaps; n++) h[n] /= sum;
        return h;
    }

    /// <summary>Radial jinc low-pass times the outer product of a Kaiser window, normalised to sum 1 (row-major [numtaps, numtaps]).</summary>
    public static double[] Jinc(int numtaps, double cutoff, double width, double fs)
    {
        var x = Enumerable.Range(0, numtaps).Select(n => (n - (numtaps - 1) / 2.0) / fs).ToArray();
        var w = Kaiser(numtaps, KaiserBeta(KaiserAtten(numtaps, width / (fs / 2))));
        var f = new double[numtaps * numtaps];
        for (int i = 0; i < numtaps; i++)
            for (int j = 0; j < numtaps; j++)
            {
                double r = Math.Sqrt(x[i] * x[i] + x[j] * x[j]);
                f[i * numtaps + j] = BesselJ1(2 * cutoff * (Math.PI * r)) / (Math.PI * r) * w[i] * w[j];
            }
        double sum = f.Sum();
        for (int k = 0; k < f.Length; k++) f[k] /= sum;
        return f;
    }

    /// <summary>scipy.signal.kaiser_atten: attenuation in dB for a Kaiser FIR of the given transition width (fraction of Nyquist).</summary>
    public static double KaiserAtten(int numtaps, double width) => 2.285 * (numtaps - 1) * Math.PI * width + 7.95;

    /// <summary>scipy.signal.kaiser_beta.</summary>
    public static double KaiserBeta(double a) =>
        a > 50 ? 0.1102 * (a - 8.7) : a > 21 ? 0.5842 * Math.Pow(a - 21, 0.4) + 0.07886 * (a - 21) : 0.0;

    /// <summary>numpy.kaiser(m, beta): the symmetric Kaiser window.</summary>
    public static double[] Kaiser(int m, double beta)
    {
        if (m == 1) return new[] { 1.0 };
        double alpha = (m - 1) / 2.0, i0Beta = BesselI0(beta);
        return Enumerable.Range(0, m).Select(n =>
        {
            double t = (n - alpha) / alpha;
            return BesselI0(beta * Math.Sqrt(Math.Max(0, 1 - t * t))) / i0Beta;
        }).ToArray();
    }

    static double Sinc(double x) => x == 0 ? 1.0 : Math.Sin(Math.PI * x) / (Math.PI * x);

    /// <summary>Modified Bessel function I0 by its power series (all terms positive, so no cancellation).</summary>
    public static double BesselI0(double x)
    {
        double sum = 1, term = 1, q = x * x / 4;
        for (int k = 1; k < 500 && term > 1e-17 * sum; k++) { term *= q / ((double)k * k); sum += term; }
        return sum;
    }

    /// <summary>
    /// Bessel function J1 from Bessel's integral J1(x) = (1/π)∫₀^π cos(τ − x sin τ) dτ. The integrand extends to a smooth
    /// periodic function, so the trapezoidal rule converges geometrically once the node count exceeds |x|.
    /// </summary>
    public static double BesselJ1(double x)
    {
        int n = 64 + 2 * (int)Math.Ceiling(Math.Abs(x));
        double sum = 0;
        for (int k = 0; k <= n; k++)
        {
            double tau = Math.PI * k / n, v = Math.Cos(tau - x * Math.Sin(tau));
            sum += k == 0 || k == n ? v / 2 : v;
        }
        return sum / n;
    }
}
