internal import InletCore
