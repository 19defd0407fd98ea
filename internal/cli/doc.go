// Package cli is what every "sportello" command shares on its command line, so that they all
// behave alike: -h, --help (and "help") print the command's usage on standard output and exit
// 0 without opening anything; a bad flag, a missing or extra argument or an unknown
// subcommand prints the reason and the usage on standard error and exits 2; flags and
// positional arguments come in any order ("--" ends the flags); a configuration file is
// given with --config FILE.
package cli
