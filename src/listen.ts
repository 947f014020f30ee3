// Re-exports of the listen area (filled in by that area's modules).
export {};
