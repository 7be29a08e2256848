public enum PlaceholderSluiceMonitoring {}
