using AnyRes.Web;
using Microsoft.Extensions.Configuration;

// Users run `anyres serve`; this entry point is what WebApplicationFactory starts (and a way to run the viewer alone:
// dotnet AnyRes.Web.dll --Viewer:Networks:0=net.safetensors --urls http://127.0.0.1:8080).
var builder = WebApplication.CreateBuilder(args);
var app = ViewerApp.Build(builder, builder.Configuration.GetSection("Viewer").Get<ViewerOptions>() ?? new ViewerOptions());
app.Run();

/// <summary>The entry point's type, for WebApplicationFactory&lt;Program&gt;.</summary>
public partial class Program;
