$offlisting
$offdigit

EQUATIONS
	one_kernel_0_
	one_kernel_1_
	one_kernel_2_
	one_kernel_3_
	one_kernel_4_
	one_kernel_5_
	depth_spread_def_hi
	flops_budget_hi
	params_budget_hi
	rho_bound_0__hi
	monotone_1__hi
	monotone_2__hi
	monotone_3__hi
	monotone_4__hi
	monotone_5__hi
	width_ratio_1__hi
	width_ratio_2__hi
	width_ratio_3__hi
	width_ratio_4__hi
	width_ratio_5__hi
	btn_lower_1__hi
	btn_lower_2__hi
	btn_lower_3__hi
	btn_lower_4__hi
	btn_lower_5__hi
	btn_upper_1__hi
	btn_upper_2__hi
	btn_upper_3__hi
	btn_upper_4__hi
	btn_upper_5__hi
	objective;

BINARY VARIABLES
	kernel_0_3_
	kernel_1_3_
	kernel_1_5_
	kernel_2_3_
	kernel_2_5_
	kernel_3_3_
	kernel_3_5_
	kernel_4_3_
	kernel_4_5_
	kernel_5_3_
	kernel_5_5_;

INTEGER VARIABLES
	depth_1_
	depth_2_
	depth_3_
	depth_4_
	depth_5_
	width_units_0_
	btn_units_1_
	width_units_1_
	btn_units_2_
	width_units_2_
	btn_units_3_
	width_units_3_
	btn_units_4_
	width_units_4_
	btn_units_5_
	width_units_5_;

POSITIVE VARIABLES
	depth_spread;

VARIABLES
	GAMS_OBJECTIVE
	;


one_kernel_0_.. kernel_0_3_ =e= 1 ;
one_kernel_1_.. kernel_1_3_ + kernel_1_5_ =e= 1 ;
one_kernel_2_.. kernel_2_3_ + kernel_2_5_ =e= 1 ;
one_kernel_3_.. kernel_3_3_ + kernel_3_5_ =e= 1 ;
one_kernel_4_.. kernel_4_3_ + kernel_4_5_ =e= 1 ;
one_kernel_5_.. kernel_5_3_ + kernel_5_5_ =e= 1 ;
depth_spread_def_hi.. (depth_1_*depth_1_ + depth_2_*depth_2_ + depth_3_*depth_3_ + depth_4_*depth_4_ + depth_5_*depth_5_)/5 - (depth_1_ + depth_2_ + depth_3_ + depth_4_ + depth_5_)/5*((depth_1_ + depth_2_ + depth_3_ + depth_4_ + depth_5_)/5) - depth_spread =l= 0 ;
flops_budget_hi.. (((8*width_units_0_)*(8*btn_units_1_)*12544 + (8*btn_units_1_)*(9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_)*3136 + (8*btn_units_1_)*(8*width_units_1_)*3136 + (8*width_units_0_)*(8*width_units_1_)*3136 + (depth_1_ + (-1))*((8*width_units_1_)*(8*btn_units_1_)*3136 + (8*btn_units_1_)*(9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_)*3136 + (8*btn_units_1_)*(8*width_units_1_)*3136) + 3*(9*kernel_0_3_)*(8*width_units_0_)*12544 + (8*width_units_1_)*(8*btn_units_2_)*3136 + (8*btn_units_2_)*(9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_)*784 + (8*btn_units_2_)*(8*width_units_2_)*784 + (8*width_units_1_)*(8*width_units_2_)*784 + (depth_2_ + (-1))*((8*width_units_2_)*(8*btn_units_2_)*784 + (8*btn_units_2_)*(9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_)*784 + (8*btn_units_2_)*(8*width_units_2_)*784) + (8*width_units_2_)*(8*btn_units_3_)*784 + (8*btn_units_3_)*(9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_)*196 + (8*btn_units_3_)*(8*width_units_3_)*196 + (8*width_units_2_)*(8*width_units_3_)*196 + (depth_3_ + (-1))*((8*width_units_3_)*(8*btn_units_3_)*196 + (8*btn_units_3_)*(9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_)*196 + (8*btn_units_3_)*(8*width_units_3_)*196) + (8*width_units_3_)*(8*btn_units_4_)*196 + (8*btn_units_4_)*(9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_)*196 + (8*btn_units_4_)*(8*width_units_4_)*196 + (8*width_units_3_)*(8*width_units_4_)*196 + (depth_4_ + (-1))*((8*width_units_4_)*(8*btn_units_4_)*196 + (8*btn_units_4_)*(9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_)*196 + (8*btn_units_4_)*(8*width_units_4_)*196) + (8*width_units_4_)*(8*btn_units_5_)*196 + (8*btn_units_5_)*(9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_)*49 + (8*btn_units_5_)*(8*width_units_5_)*49 + (8*width_units_4_)*(8*width_units_5_)*49 + (depth_5_ + (-1))*((8*width_units_5_)*(8*btn_units_5_)*49 + (8*btn_units_5_)*(9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_)*49 + (8*btn_units_5_)*(8*width_units_5_)*49) + (8*width_units_5_)*1000)/1000000000) =l= 4.1299999999999999 ;
params_budget_hi.. ((3*(9*kernel_0_3_)*(8*width_units_0_) + 2*(8*width_units_0_) + (8*width_units_0_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (8*btn_units_1_)*(9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (8*btn_units_1_)*(8*width_units_1_) + 2*(8*width_units_1_) + (8*width_units_0_)*(8*width_units_1_) + 2*(8*width_units_1_) + (depth_1_ + (-1))*((8*width_units_1_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (8*btn_units_1_)*(9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (8*btn_units_1_)*(8*width_units_1_) + 2*(8*width_units_1_)) + (8*width_units_1_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (8*btn_units_2_)*(9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (8*btn_units_2_)*(8*width_units_2_) + 2*(8*width_units_2_) + (8*width_units_1_)*(8*width_units_2_) + 2*(8*width_units_2_) + (depth_2_ + (-1))*((8*width_units_2_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (8*btn_units_2_)*(9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (8*btn_units_2_)*(8*width_units_2_) + 2*(8*width_units_2_)) + (8*width_units_2_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (8*btn_units_3_)*(9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (8*btn_units_3_)*(8*width_units_3_) + 2*(8*width_units_3_) + (8*width_units_2_)*(8*width_units_3_) + 2*(8*width_units_3_) + (depth_3_ + (-1))*((8*width_units_3_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (8*btn_units_3_)*(9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (8*btn_units_3_)*(8*width_units_3_) + 2*(8*width_units_3_)) + (8*width_units_3_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (8*btn_units_4_)*(9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (8*btn_units_4_)*(8*width_units_4_) + 2*(8*width_units_4_) + (8*width_units_3_)*(8*width_units_4_) + 2*(8*width_units_4_) + (depth_4_ + (-1))*((8*width_units_4_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (8*btn_units_4_)*(9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (8*btn_units_4_)*(8*width_units_4_) + 2*(8*width_units_4_)) + (8*width_units_4_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (8*btn_units_5_)*(9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (8*btn_units_5_)*(8*width_units_5_) + 2*(8*width_units_5_) + (8*width_units_4_)*(8*width_units_5_) + 2*(8*width_units_5_) + (depth_5_ + (-1))*((8*width_units_5_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (8*btn_units_5_)*(9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (8*btn_units_5_)*(8*width_units_5_) + 2*(8*width_units_5_)) + (8*width_units_5_)*1000 + 1000)/1000000) =l= 25.55 ;
rho_bound_0__hi.. (3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3 + 3 + (depth_3_ + (-1))*3 + 3 + (depth_4_ + (-1))*3 + 3 + (depth_5_ + (-1))*3)*(log(3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3 + 3 + (depth_3_ + (-1))*3 + 3 + (depth_4_ + (-1))*3 + 3 + (depth_5_ + (-1))*3) + 1.2039728043259361) - (log((8*btn_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*width_units_0_)) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*btn_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*width_units_1_)) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*btn_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*width_units_1_)) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*btn_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*width_units_2_)) + log((8*btn_units_2_))) + log((8*btn_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*width_units_2_)) + log((8*btn_units_3_)) + (depth_3_ + (-1))*(log((8*btn_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*width_units_3_)) + log((8*btn_units_3_))) + log((8*btn_units_4_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*width_units_3_)) + log((8*btn_units_4_)) + (depth_4_ + (-1))*(log((8*btn_units_4_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*width_units_4_)) + log((8*btn_units_4_))) + log((8*btn_units_5_)) + (2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_) + log((8*width_units_4_)) + log((8*btn_units_5_)) + (depth_5_ + (-1))*(log((8*btn_units_5_)) + (2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_) + log((8*width_units_5_)) + log((8*btn_units_5_)))) =l= 0 ;
monotone_1__hi.. width_units_0_ - width_units_1_ =l= 0 ;
monotone_2__hi.. width_units_1_ - width_units_2_ =l= 0 ;
monotone_3__hi.. width_units_2_ - width_units_3_ =l= 0 ;
monotone_4__hi.. width_units_3_ - width_units_4_ =l= 0 ;
monotone_5__hi.. width_units_4_ - width_units_5_ =l= 0 ;
width_ratio_1__hi.. width_units_1_ + (-4)*width_units_0_ =l= 0 ;
width_ratio_2__hi.. width_units_2_ + (-4)*width_units_1_ =l= 0 ;
width_ratio_3__hi.. width_units_3_ + (-4)*width_units_2_ =l= 0 ;
width_ratio_4__hi.. width_units_4_ + (-4)*width_units_3_ =l= 0 ;
width_ratio_5__hi.. width_units_5_ + (-4)*width_units_4_ =l= 0 ;
btn_lower_1__hi.. 0.1*width_units_1_ - btn_units_1_ =l= 0 ;
btn_lower_2__hi.. 0.1*width_units_2_ - btn_units_2_ =l= 0 ;
btn_lower_3__hi.. 0.1*width_units_3_ - btn_units_3_ =l= 0 ;
btn_lower_4__hi.. 0.1*width_units_4_ - btn_units_4_ =l= 0 ;
btn_lower_5__hi.. 0.1*width_units_5_ - btn_units_5_ =l= 0 ;
btn_upper_1__hi.. btn_units_1_ - width_units_1_ =l= 0 ;
btn_upper_2__hi.. btn_units_2_ - width_units_2_ =l= 0 ;
btn_upper_3__hi.. btn_units_3_ - width_units_3_ =l= 0 ;
btn_upper_4__hi.. btn_units_4_ - width_units_4_ =l= 0 ;
btn_upper_5__hi.. btn_units_5_ - width_units_5_ =l= 0 ;
objective.. GAMS_OBJECTIVE =e= ((9.436997742590188 + log((8*width_units_0_)))*(1.0986122886681098 + 2.1972245773362196*kernel_0_3_)) + ((8.050703381470299 + log((8*width_units_1_)))*(log((8*btn_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*width_units_0_)) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*btn_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*width_units_1_)) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_))) + ((6.6644090203504076 + log((8*width_units_2_)))*(log((8*btn_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*width_units_0_)) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*btn_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*width_units_1_)) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*btn_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*width_units_1_)) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*btn_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*width_units_2_)) + log((8*btn_units_2_))))) + ((5.2781146592305168 + log((8*width_units_4_)))*(log((8*btn_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*width_units_0_)) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*btn_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*width_units_1_)) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*btn_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*width_units_1_)) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*btn_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*width_units_2_)) + log((8*btn_units_2_))) + log((8*btn_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*width_units_2_)) + log((8*btn_units_3_)) + (depth_3_ + (-1))*(log((8*btn_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*width_units_3_)) + log((8*btn_units_3_))) + log((8*btn_units_4_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*width_units_3_)) + log((8*btn_units_4_)) + (depth_4_ + (-1))*(log((8*btn_units_4_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*width_units_4_)) + log((8*btn_units_4_))))) + (8*(3.8918202981106265 + log((8*width_units_5_)))*(log((8*btn_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*width_units_0_)) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*btn_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*width_units_1_)) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*btn_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*width_units_1_)) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*btn_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*width_units_2_)) + log((8*btn_units_2_))) + log((8*btn_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*width_units_2_)) + log((8*btn_units_3_)) + (depth_3_ + (-1))*(log((8*btn_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*width_units_3_)) + log((8*btn_units_3_))) + log((8*btn_units_4_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*width_units_3_)) + log((8*btn_units_4_)) + (depth_4_ + (-1))*(log((8*btn_units_4_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*width_units_4_)) + log((8*btn_units_4_))) + log((8*btn_units_5_)) + (2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_) + log((8*width_units_4_)) + log((8*btn_units_5_)) + (depth_5_ + (-1))*(log((8*btn_units_5_)) + (2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_) + log((8*width_units_5_)) + log((8*btn_units_5_))))) - (10*exp(depth_spread)) ;

kernel_0_3_.l = 1;
kernel_1_3_.l = 0;
kernel_1_5_.l = 1;
kernel_2_3_.l = 0;
kernel_2_5_.l = 1;
kernel_3_3_.l = 0;
kernel_3_5_.l = 1;
kernel_4_3_.l = 0;
kernel_4_5_.l = 1;
kernel_5_3_.l = 0;
kernel_5_5_.l = 1;
depth_1_.lo = 1;
depth_1_.up = 3;
depth_1_.l = 2;
depth_2_.lo = 1;
depth_2_.up = 20;
depth_2_.l = 10;
depth_3_.lo = 1;
depth_3_.up = 20;
depth_3_.l = 10;
depth_4_.lo = 1;
depth_4_.up = 20;
depth_4_.l = 10;
depth_5_.lo = 1;
depth_5_.up = 20;
depth_5_.l = 10;
width_units_0_.lo = 2;
width_units_0_.up = 8;
width_units_0_.l = 2;
btn_units_1_.lo = 1;
btn_units_1_.up = 32;
btn_units_1_.l = 4;
width_units_1_.lo = 4;
width_units_1_.up = 32;
width_units_1_.l = 9;
btn_units_2_.lo = 1;
btn_units_2_.up = 128;
btn_units_2_.l = 17;
width_units_2_.lo = 8;
width_units_2_.up = 128;
width_units_2_.l = 34;
btn_units_3_.lo = 2;
btn_units_3_.up = 256;
btn_units_3_.l = 34;
width_units_3_.lo = 16;
width_units_3_.up = 256;
width_units_3_.l = 68;
btn_units_4_.lo = 2;
btn_units_4_.up = 256;
btn_units_4_.l = 34;
width_units_4_.lo = 16;
width_units_4_.up = 256;
width_units_4_.l = 68;
btn_units_5_.lo = 4;
btn_units_5_.up = 256;
btn_units_5_.l = 36;
width_units_5_.lo = 32;
width_units_5_.up = 256;
width_units_5_.l = 72;
depth_spread.up = 11.01249840935251;
depth_spread.l = 0;

MODEL GAMS_MODEL /all/ ;
option solprint=off;
option limrow=0;
option limcol=0;
option solvelink=5;
SOLVE GAMS_MODEL USING minlp maximizing GAMS_OBJECTIVE;

Scalars MODELSTAT 'model status', SOLVESTAT 'solve status';
MODELSTAT = GAMS_MODEL.modelstat;
SOLVESTAT = GAMS_MODEL.solvestat;

Scalar OBJEST 'best objective', OBJVAL 'objective value';
OBJEST = GAMS_MODEL.objest;
OBJVAL = GAMS_MODEL.objval;

Scalar NUMVAR 'number of variables';
NUMVAR = GAMS_MODEL.numvar

Scalar NUMEQU 'number of equations';
NUMEQU = GAMS_MODEL.numequ

Scalar NUMDVAR 'number of discrete variables';
NUMDVAR = GAMS_MODEL.numdvar

Scalar NUMNZ 'number of nonzeros';
NUMNZ = GAMS_MODEL.numnz

Scalar ETSOLVE 'time to execute solve statement';
ETSOLVE = GAMS_MODEL.etsolve

