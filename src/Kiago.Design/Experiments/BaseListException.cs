namespace Kiago.Design.Experiments;

/// <summary>A base-material list could not be read; the message names the file, the entry and the field.</summary>
public sealed class BaseListException(string message) : InputException(message);
