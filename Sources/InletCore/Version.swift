public enum InletCoreVersion { public static let string = "0.1.0" }
