public enum PlaceholderSluiceRuntime {}
