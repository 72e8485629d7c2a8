// Loaded with #load from load.ipynb: resolved relative to the notebook's folder.
string Shout(string text) => text.ToUpperInvariant() + "!";
