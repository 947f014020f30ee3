// Re-exports of the process area (filled in by that area's modules).
export {};
