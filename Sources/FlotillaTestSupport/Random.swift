// Tests draw from the project's one seeded generator.
@_exported import FlotillaRandom
