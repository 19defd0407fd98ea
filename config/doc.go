// Package config is sportello's one typed configuration: loaded from YAML with unknown keys
// refused, environment overrides for deploy-time values, secrets by file reference or
// environment variable, and validation that reports every error at once with its path.
//
// The pipeline of Load and Parse is: strict decoding (every unknown key, wrong type and bad
// duration reported with its path), relative paths made relative to the file's directory,
// SPORTELLO_* environment overrides, secret resolution, ApplyDefaults, then Validate. Each
// provider section is validated by its own package through the ProviderValidator functions
// injected in Options.ProviderTypes; config imports no provider.
//
// DevYAML and DevConfig give the zero-setup configuration of "sportello dev".
package config
