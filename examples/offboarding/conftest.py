import sys
from pathlib import Path

# The script sits beside its tests.
sys.path.insert(0, str(Path(__file__).parent))
