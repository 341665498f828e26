"""trace.dat files (the libtracecmd layer): read versions 6 and 7, write version 7."""
