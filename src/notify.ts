// Re-exports of the notify area (filled in by that area's modules).
export {};
